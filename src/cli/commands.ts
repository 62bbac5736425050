import { applyCommand } from './applyCommand.js';
import { ciCommand } from './ciCommand.js';
import type { CommandSpec } from './commandSpec.js';
import { deployCommand } from './deployCommand.js';
import { fleetCommand } from './fleetCommand.js';
import { generateCommand } from './generateCommand.js';
import { initCommand } from './initCommand.js';
import { inspectCommand } from './inspectCommand.js';
import { smokeCommand } from './smokeCommand.js';

/** Every command, in the order --help lists them. Add a command: one file, one line here. */
export const COMMANDS: readonly CommandSpec[] = [
  inspectCommand,
  generateCommand,
  deployCommand,
  smokeCommand,
  applyCommand,
  initCommand,
  ciCommand,
  fleetCommand,
];
