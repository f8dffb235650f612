// The parts of tus-js-client that lib/upload.js uses (its core, its Blob reader, no URL storage),
// imported by it when a photo first goes by tus: a chunk of its own, not in the first screen's.
export { default as BaseUpload } from 'tus-js-client/lib.esm/upload.js';
export { default as FileReader } from 'tus-js-client/lib.esm/browser/fileReader.js';
export { default as NoopUrlStorage } from 'tus-js-client/lib.esm/noopUrlStorage.js';
