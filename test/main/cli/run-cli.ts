// Runs the CLI from source in a process of its own, as bin/branchlens.js runs the build: for the tests of what
// only a real process shows, such as a standard output whose reader has gone.
import { main } from '../../../main/cli/index.js';

process.exitCode = await main(process.argv.slice(2));
