/** Modules the benchmark uses that ship no type declarations. */
declare module 'express-pouchdb'
