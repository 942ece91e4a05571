// The subvoxel boundary measures (MONAI's use_subvoxels) live in src/core/marching.ts: the GPU
// surface metrics upload the same tables.
export { contourLengthTable, cornerBit, surfaceAreaTable } from '../../core/marching.js';
