// Printing and saving through the desktop app's bridge (window.branchlens): it answers the path the officer chose
// (null: the dialog was cancelled) or the contract's error body, which becomes the same ApiError a call over HTTP
// throws, so that the page words a refusal (a file inside the data folder, a folder that may not be written) in
// the user's language with its problems. No DOM: the bridge is passed in.
import type { BranchLensBridge, SaveResult } from '../../../shared/bridge.js';
import { ApiError } from '../../../shared/contract.js';

/** The path (null: cancelled), or the error body thrown as an ApiError. */
export function savedOrThrow(result: SaveResult): string | null {
  if (!result.ok) throw new ApiError(result.error);
  return result.value;
}

/** Prints the page to a PDF where the officer chooses. */
export async function printToPdfVia(bridge: BranchLensBridge, suggestedName: string): Promise<string | null> {
  return savedOrThrow(await bridge.printToPdf(suggestedName));
}

/** Saves text or base64 content where the officer chooses. */
export async function saveFileVia(
  bridge: BranchLensBridge,
  name: string,
  content: string,
  encoding: 'utf8' | 'base64',
): Promise<string | null> {
  return savedOrThrow(await bridge.saveFile(name, content, encoding));
}
