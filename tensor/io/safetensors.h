// safetensors files (https://github.com/huggingface/safetensors): named tensors and string
// metadata, readable and writable by PyTorch's safetensors package, bytes identical to its
// save_file. Not model logic: nn/ maps state_dict() names to tensors.
//
// Layout: u64 little-endian N, then N bytes of JSON header (padded with spaces to a multiple
// of 8), then the data buffer. The header maps each name to {"dtype", "shape",
// "data_offsets": [begin, end]} (offsets into the buffer), plus an optional "__metadata__"
// object of strings. Supported dtypes: F32, F64, I64, I32, U8, BOOL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace ignis {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using SafetensorsMetadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  NamedTensors tensors;          // contiguous CPU tensors, in the header's order
  SafetensorsMetadata metadata;  // the "__metadata__" object; empty if absent
};

// The file's bytes. Tensors are laid out as the Rust writer does: sorted by dtype (I64, F64,
// F32, I32, U8, BOOL) then by name, each copied contiguous to the CPU, little-endian. An
// empty `metadata` writes no "__metadata__" (as save_file(..., metadata=None)).
// NOTE: save_file writes metadata in a random (hash map) order, so files with two or more
// metadata keys match PyTorch's bytes only up to that order; ignis writes keys sorted.
// Throws ValueError for an undefined tensor, a duplicate name or the name "__metadata__".
std::string safetensors_to_bytes(const NamedTensors& tensors,
                                 const SafetensorsMetadata& metadata = {});
// Writes safetensors_to_bytes' content to `path` atomically (AtomicFile), one tensor at a
// time. Throws as safetensors_to_bytes, or Error when the file cannot be written.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata = {});

// Parses and validates a whole file before allocating any tensor, so a hostile file costs at
// most its own size in tensor memory (NOTE: plus the parsed JSON header, a few times its
// text's size). Rejects, with ParseError "<source>: <problem>": a
// header length beyond the file or above 100 MB, a header that is not a JSON object (see
// json::parse) or does not start with '{', an unknown dtype, a missing or unknown field,
// negative sizes or a byte size that overflows, data_offsets that do not match the shape,
// tensors that overlap, leave gaps or do not end at the end of the file, duplicate names,
// non-string metadata values, and BOOL bytes other than 0 and 1.
SafetensorsFile safetensors_from_bytes(std::string_view bytes,
                                       std::string_view source = "safetensors");
// As safetensors_from_bytes, reading `path` (named in every error); ParseError also when the
// file cannot be opened or read.
SafetensorsFile load_safetensors(const std::filesystem::path& path);

}  // namespace ignis
