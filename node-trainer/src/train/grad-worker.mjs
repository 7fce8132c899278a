// Worker-thread entry for one gradient worker of a data-parallel head (step.ts). Plain JS: the tsx
// loader registered by the CLI does not reach worker threads, so each worker registers it before
// importing the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./grad-worker.ts');
