/** src/core: pure TypeScript shared by the browser and node-trainer (no DOM, no Node APIs). */
export * from './errors';
export * from './taxonomy';
export * from './manifest';
export * from './sampling';
export * from './preprocess';
export * from './postprocess';
export * from './result';
export * from './result-summary';
export * from './verdict';
