// Loading an engine pinned to the bundle that was checked: a folder read again later (an engine thread started or
// restarted from it) must still hold that bundle, or the engine refuses to start rather than serve another model.
import { join } from 'node:path';
import { BundleError, changedDuringImport, installedCopyChanged } from './bundle/load.js';
import { Engine } from './engine.js';
import type { BackendName } from './tf/backend.js';

/** The bundle an engine must load, by its sha256, and what a different one means for the message. */
export interface PinnedBundle {
  sha256: string;
  /**
   * `import`: the folder being imported changed after it was checked; `installed`: the installed copy changed
   * after it was imported (or verified); `folder`: the folder a service serves directly (`--model DIR`) changed
   * after the service started.
   */
  source: 'import' | 'installed' | 'folder';
}

export async function loadEngine(
  bundleDir: string,
  opts: { backend?: BackendName; pinned?: PinnedBundle } = {},
): Promise<Engine> {
  const engine = await Engine.load(bundleDir, opts.backend ? { backend: opts.backend } : {});
  const pinned = opts.pinned;
  if (pinned && engine.bundle.sha256 !== pinned.sha256) {
    const found = engine.bundle.sha256.slice(0, 12);
    const expected = pinned.sha256.slice(0, 12);
    const model = `${engine.bundle.manifest.id}@${engine.bundle.manifest.version}`;
    engine.dispose();
    throw new BundleError([
      pinned.source === 'import'
        ? changedDuringImport({ found, expected })
        : pinned.source === 'folder'
          ? {
              field: join(bundleDir, 'manifest.json'),
              code: 'invalid',
              message: `changed on disk after the service started with it (sha256 ${found}…, started as ${expected}…); start the service again to serve it`,
            }
          : installedCopyChanged(model, found, expected),
    ]);
  }
  return engine;
}
