/**
 * A second process for the lock tests: takes a chain lock (as `run` would) and holds it until SIGTERM or
 * stdin closes. Prints "held" once it holds it.  usage: tsx test/chain/hold-lock.ts NAME PURPOSE
 */
import { acquireChainLock } from '../../src/drivers/lock.ts';

const [name, purpose] = process.argv.slice(2);
const lock = await acquireChainLock(name, purpose);
process.stdout.write('held\n');
const done = () => {
  lock.release();
  process.exit(0);
};
process.on('SIGTERM', done);
process.stdin.on('end', done);
process.stdin.resume();
