// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed, read into tensors.
// Not a data loader: batching images is done by the caller (apps/, examples/).
//
// The format: 2 zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
// 0x0D float32, 0x0E float64), a rank byte, then `rank` big-endian uint32 sizes, then the
// values, big-endian, row-major.
#pragma once

#include <filesystem>
#include <string>

#include "tensor/tensor.h"

namespace ignis::data {

// Whether this build reads gzip-compressed IDX files (it links zlib).
bool idx_supports_gzip();

// The tensor stored in an IDX file: uint8 -> UInt8, int8 / int16 / int32 -> Int32,
// float32 -> Float32, float64 -> Float64; shape = the file's sizes. A file starting with the
// gzip magic is decompressed on the fly.
// Throws IOError when the file cannot be opened, ParseError naming the file for a bad magic,
// an unknown type, sizes whose product overflows, or a file shorter (or longer) than its
// sizes say; and for a gzip file in a build without zlib, an error telling to gunzip it.
Tensor read_idx(const std::filesystem::path& path);

// The images and labels of an MNIST-format split in `dir`:
//   images (N, 28, 28) uint8 from {train,t10k}-images-idx3-ubyte[.gz],
//   labels (N,) int64 from {train,t10k}-labels-idx1-ubyte[.gz].
// Throws IOError naming the directory and the file names tried when a file is missing, and
// ShapeError when the two files disagree on N or the images are not 3-d.
struct MnistSplit {
  Tensor images;  // (N, H, W) uint8
  Tensor labels;  // (N,) int64
};
MnistSplit load_mnist(const std::filesystem::path& dir, bool train);

}  // namespace ignis::data
