// Whether the optional tfjs-node package is installed, told without loading TensorFlow.js: its install
// downloads libtensorflow, which fails on offline machines, and then the package is simply not there.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Whether @tensorflow/tfjs-node resolves (its native library may still fail to load; initBackend says so). */
export function tensorflowInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}
