// Chooses the TensorFlow.js backend: tfjs-node ('tensorflow') when it installed, else wasm, else cpu.
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installFastWasmKernels } from './wasm-kernels.js';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const require = createRequire(import.meta.url);

// Production mode: no debug checks, and no console banner suggesting tfjs-node on every run.
tf.env().set('PROD', true);

/** The folder of the wasm binaries inside node_modules (or app.asar.unpacked in a packaged app). */
export function wasmDir(): string {
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  const dir = join(dirname(pkg), 'dist') + sep;
  return dir.replace(`app.asar${sep}`, `app.asar.unpacked${sep}`);
}

async function tryTensorflow(): Promise<boolean> {
  try {
    // Optional dependency: its install downloads libtensorflow, which fails on offline machines.
    await import('@tensorflow/tfjs-node' as string);
    return tf.findBackend('tensorflow') !== null || tf.findBackendFactory('tensorflow') !== null;
  } catch {
    return false;
  }
}

async function activate(name: BackendName): Promise<boolean> {
  switch (name) {
    case 'tensorflow':
      if (!(await tryTensorflow())) return false;
      break;
    case 'wasm':
      // One engine per core runs in its own worker, so each engine stays single-threaded and deterministic.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      setWasmPaths(wasmDir());
      break;
    case 'cpu':
      break;
  }
  const before = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  } finally {
    // Emscripten's Node glue installs handlers that rethrow from inside the minified wasm loader, which turns
    // any later crash report into a page of generated code. Node's own handling is clearer: remove them.
    for (const l of process.listeners('uncaughtException')) {
      if (!before.uncaughtException.includes(l)) process.removeListener('uncaughtException', l);
    }
    for (const l of process.listeners('unhandledRejection')) {
      if (!before.unhandledRejection.includes(l)) process.removeListener('unhandledRejection', l);
    }
  }
}

let active: BackendName | undefined;

/**
 * Activates `forced`, or the first backend of tensorflow → wasm → cpu that works.
 * Throws when a forced backend cannot be had, naming it.
 */
export async function initBackend(forced?: BackendName): Promise<BackendName> {
  if (active && (!forced || forced === active)) return active;
  const order: readonly BackendName[] = forced ? [forced] : BACKENDS;
  for (const name of order) {
    if (await activate(name)) {
      await tf.ready();
      if (name === 'wasm' && process.env.BRANCHLENS_WASM_KERNELS !== 'stock') installFastWasmKernels();
      active = name;
      return name;
    }
  }
  throw new Error(
    forced === 'tensorflow'
      ? 'backend "tensorflow" is not available: @tensorflow/tfjs-node did not install (it downloads libtensorflow at install time)'
      : `backend "${forced}" could not be initialised`,
  );
}

export function activeBackend(): BackendName | undefined {
  return active;
}
