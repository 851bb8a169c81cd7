// Every CLI command, in the order `branchlens --help` lists them.
import type { Command } from '../command.js';
import { explainCommand } from './explain.js';
import { verifyCommand } from './verify.js';

export const COMMANDS: Command[] = [explainCommand, verifyCommand];
