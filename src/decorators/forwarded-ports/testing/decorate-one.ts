/**
 * Test helper run as a child process (with reduced capabilities): decorates a
 * one-namespace draft and prints it as JSON. Usage: decorate-one.js INODE REF
 */
import { decorateForwardedPorts } from '../index.js';
import { minimalDraft } from './draft.js';

const [ino = '', ref = ''] = process.argv.slice(2);
const draft = minimalDraft(Number(ino), ref);
decorateForwardedPorts(draft, { dockerProxy: false });
process.stdout.write(JSON.stringify(draft));
