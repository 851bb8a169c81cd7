// A database damaged where opening it does not read: a table of its own whose root page is no longer a b-tree
// page, as a bad sector or a copy taken mid-write might leave it. Opening (header, schema, the audit log's head)
// succeeds; only a read of that table, or the integrity check, finds the damage.
import Database from 'better-sqlite3';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { dbPath, openWritable } from '../../../../main/core/db/open.js';

/** Makes (or adds to) the database in `dataDir` and damages it so; returns the damaged page's number. */
export function damageUnreadPage(dataDir: string): number {
  openWritable(dataDir).close();
  const raw = new Database(dbPath(dataDir));
  let rootpage: number;
  let pageSize: number;
  try {
    raw.exec('CREATE TABLE filler (n INTEGER PRIMARY KEY, pad BLOB)');
    const insert = raw.prepare('INSERT INTO filler (pad) VALUES (randomblob(1000))');
    raw.transaction(() => {
      for (let i = 0; i < 100; i++) insert.run();
    })();
    ({ rootpage } = raw.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'filler'").get() as {
      rootpage: number;
    });
    pageSize = raw.pragma('page_size', { simple: true }) as number;
    raw.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    raw.close();
  }
  const fd = openSync(dbPath(dataDir), 'r+');
  try {
    const at = (rootpage - 1) * pageSize;
    const type = Buffer.alloc(1);
    readSync(fd, type, 0, 1, at);
    // A table's b-tree page (interior 0x05, leaf 0x0d) becomes a type SQLite does not know.
    if (type[0] !== 0x05 && type[0] !== 0x0d)
      throw new Error(`page ${rootpage} is not a table's b-tree page`);
    writeSync(fd, Buffer.from([0xff]), 0, 1, at);
  } finally {
    closeSync(fd);
  }
  return rootpage;
}

/**
 * Makes (or adds to) the database in `dataDir` with its header miscounting the free pages: damage that SQLite
 * reads past, which the integrity check lists ("Freelist: size is … but should be 3") rather than stops at.
 */
export function miscountFreePages(dataDir: string): void {
  const db = openWritable(dataDir);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const fd = openSync(dbPath(dataDir), 'r+');
  try {
    writeSync(fd, Buffer.from([0, 0, 0, 3]), 0, 4, 36); // the header's count of free pages, big-endian
  } finally {
    closeSync(fd);
  }
}
