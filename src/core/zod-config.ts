/**
 * zod without its JIT: zod probes `new Function('')` to decide whether to compile fast parsers,
 * and under vidkind's Content-Security-Policy (no 'unsafe-eval') that probe is reported as a
 * violation even though zod catches it. Imported for its effect by every core module that uses zod.
 */
import { z } from 'zod';

z.config({ jitless: true });
