//! Coverage of road segments, blocks and grids by patrol paths (being written).
