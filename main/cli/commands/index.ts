// Every CLI command, in the order `branchlens --help` lists them.
import type { Command } from '../command.js';
import { AUDIT_COMMANDS } from './audit.js';
import { auditShowCommand } from './audit-show.js';
import { demoCommand } from './demo.js';
import { explainCommand } from './explain.js';
import { MODEL_COMMANDS } from './models.js';
import { serveCommand } from './serve.js';
import { verifyCommand } from './verify.js';

export const COMMANDS: Command[] = [
  explainCommand,
  verifyCommand,
  ...MODEL_COMMANDS,
  demoCommand,
  ...AUDIT_COMMANDS,
  auditShowCommand,
  serveCommand,
];
