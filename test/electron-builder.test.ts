// The installers' configuration (electron-builder.yml) held to what the app needs when packaged, since the
// installers cannot be built on this offline machine: the targets, the files that must be real files on disk
// (matched against the installed node_modules), the demo model in resources, no publishing or updates, and data
// kept on uninstall.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { minimatch } from 'minimatch';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { appRoot } from '../main/core/paths.js';
import { wasmDir } from '../main/core/tf/backend.js';

const root = appRoot();
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as {
  files: string[];
  extraMetadata: { main: string };
  extraResources: { from: string; to: string }[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  publish: null;
  detectUpdateChannel: boolean;
  electronFuses: Record<string, boolean>;
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[] };
  nsis: { deleteAppDataOnUninstall: boolean; oneClick: boolean };
};
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/** Every file under `dir`, as a path relative to the app's root with / separators. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => relative(root, path).split(sep).join('/'));
}

const unpacked = (path: string) => config.asarUnpack.some((glob) => minimatch(path, glob, { dot: true }));

describe('electron-builder.yml', () => {
  it('builds AppImage and deb, nsis and dmg', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.win.target).toContain('nsis');
    expect(config.mac.target).toContain('dmg');
  });

  it('publishes nothing and never looks for updates', () => {
    expect(config.publish).toBeNull();
    expect(config.detectUpdateChannel).toBe(false);
    expect(Object.keys(pkg.dependencies)).not.toContain('electron-updater');
  });

  it('keeps the user’s data on uninstall', () => {
    expect(config.nsis.deleteAppDataOnUninstall).toBe(false);
  });

  it('starts the compiled main process, which the packaged files include', () => {
    expect(config.extraMetadata.main).toBe(pkg.main);
    expect(config.files.some((glob) => minimatch(pkg.main, glob))).toBe(true);
  });

  it('ships the demo model and the samples in resources', () => {
    for (const { from } of config.extraResources) expect(existsSync(join(root, from)), from).toBe(true);
    expect(config.extraResources.map((r) => r.to)).toContain('assets/models/credit-demo');
    expect(existsSync(join(root, 'assets/models/credit-demo/manifest.json'))).toBe(true);
  });

  it('unpacks better-sqlite3’s addon and every wasm binary the wasm backend loads', () => {
    const addons = filesUnder(join(root, 'node_modules/better-sqlite3')).filter((f) => f.endsWith('.node'));
    expect(addons.length).toBeGreaterThan(0);
    for (const addon of addons) expect(unpacked(addon), addon).toBe(true);
    const wasm = filesUnder(wasmDir()).filter((f) => f.endsWith('.wasm'));
    expect(wasm.length).toBeGreaterThanOrEqual(3);
    for (const file of wasm) expect(unpacked(file), file).toBe(true);
    // …and not the package's JavaScript, which loads from app.asar.
    expect(unpacked('node_modules/@tensorflow/tfjs-backend-wasm/dist/index.js')).toBe(false);
  });

  it('unpacks tfjs-node whole when that optional dependency installs', () => {
    expect(Object.keys(pkg.optionalDependencies ?? {})).toContain('@tensorflow/tfjs-node');
    for (const file of ['lib/napi-v8/tfjs_binding.node', 'deps/lib/libtensorflow.so.2']) {
      expect(unpacked(`node_modules/@tensorflow/tfjs-node/${file}`), file).toBe(true);
    }
  });

  it('leaves better-sqlite3’s sources and build intermediates out of the app', () => {
    const excluded = (path: string) =>
      config.files.filter((g) => g.startsWith('!')).some((g) => minimatch(path, g.slice(1), { dot: true }));
    for (const path of [
      'node_modules/better-sqlite3/deps/sqlite3/sqlite3.c',
      'node_modules/better-sqlite3/src/better_sqlite3.cpp',
      'node_modules/better-sqlite3/build/Release/obj.target/better_sqlite3/src/better_sqlite3.o',
      'node_modules/better-sqlite3/build/Release/test_extension.node',
    ])
      expect(excluded(path), path).toBe(true);
    for (const path of [
      'node_modules/better-sqlite3/lib/index.js',
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    ])
      expect(excluded(path), path).toBe(false);
  });

  it('rebuilds native modules for Electron and hardens the binary with fuses', () => {
    expect(config.npmRebuild).toBe(true);
    expect(config.asar).toBe(true);
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});
