// The safetensors writer and the validating reader declared in safetensors.h.
// Not a memory map: the reader copies each tensor out of the file once it has checked them all.
#include "tensor/io/safetensors.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/io/atomic_file.h"
#include "tensor/io/json.h"

namespace ignis {

// NOTE: tensor bytes are copied as they are in memory, and safetensors is little-endian.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // as the Rust reader's limit
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeCode {
  DType dtype;
  const char* code;
};
// In the order the Rust writer lays tensors out (its Dtype enum, largest first).
constexpr std::array<DTypeCode, kNumDTypes> kDTypeCodes{{{kInt64, "I64"},
                                                         {kFloat64, "F64"},
                                                         {kFloat32, "F32"},
                                                         {kInt32, "I32"},
                                                         {kUInt8, "U8"},
                                                         {kBool, "BOOL"}}};

size_t dtype_rank(DType dtype) {
  for (size_t i = 0; i < kDTypeCodes.size(); ++i) {
    if (kDTypeCodes[i].dtype == dtype) return i;
  }
  internal_error("safetensors: dtype without a code");
}

const char* dtype_code(DType dtype) { return kDTypeCodes[dtype_rank(dtype)].code; }

// ---- writer ----

struct Layout {
  std::string header;  // the 8-byte length and the padded JSON
  NamedTensors tensors;  // contiguous CPU copies, in file order
};

Layout make_layout(const NamedTensors& tensors, const SafetensorsMetadata& metadata) {
  Layout layout;
  std::set<std::string_view> names;
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) throw ValueError("save_safetensors: tensor '" + name + "' is undefined");
    if (name == kMetadataKey) {
      throw ValueError("save_safetensors: '__metadata__' is reserved and cannot name a tensor");
    }
    if (!names.insert(name).second) {
      throw ValueError("save_safetensors: duplicate tensor name '" + name + "'");
    }
    layout.tensors.emplace_back(name, raw::contiguous(raw::to(t, Device::cpu())));
  }
  std::stable_sort(layout.tensors.begin(), layout.tensors.end(),
                   [](const auto& a, const auto& b) {
                     const size_t ra = dtype_rank(a.second.dtype());
                     const size_t rb = dtype_rank(b.second.dtype());
                     return ra != rb ? ra < rb : a.first < b.first;
                   });

  json::Value header = json::Value::Object{};
  if (!metadata.empty()) {
    json::Value meta = json::Value::Object{};
    for (const auto& [key, value] : metadata) meta.as_object().emplace_back(key, value);
    header.as_object().emplace_back(std::string(kMetadataKey), std::move(meta));
  }
  int64_t offset = 0;
  for (const auto& [name, t] : layout.tensors) {
    json::Value::Array shape;
    for (const int64_t size : t.sizes()) shape.emplace_back(size);
    const int64_t end = offset + static_cast<int64_t>(t.nbytes());
    header.as_object().emplace_back(
        name, json::Value::Object{{"dtype", dtype_code(t.dtype())},
                                  {"shape", std::move(shape)},
                                  {"data_offsets", json::Value::Array{offset, end}}});
    offset = end;
  }
  std::string text = json::dump(header);
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();
  layout.header.resize(8);
  std::memcpy(layout.header.data(), &n, 8);
  layout.header += text;
  return layout;
}

// ---- reader ----

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct Header {
  std::vector<Entry> entries;  // in the header's order
  SafetensorsMetadata metadata;
};

[[noreturn]] void bad_file(std::string_view source, const std::string& problem) {
  throw ParseError(std::string(source) + ": " + problem);
}

// N from the first 8 bytes, checked against the file's size.
uint64_t header_length(const unsigned char (&prefix)[8], uint64_t file_size,
                       std::string_view source) {
  uint64_t n = 0;
  std::memcpy(&n, prefix, 8);
  if (n > kMaxHeaderBytes) {
    bad_file(source, "header length " + std::to_string(n) + " exceeds the limit of " +
                         std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (n > file_size - 8) {
    bad_file(source, "header length " + std::to_string(n) + " exceeds the " +
                         std::to_string(file_size - 8) + " bytes after the length field");
  }
  return n;
}

std::string offsets_str(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// A JSON integer >= 0, else ParseError naming `what`.
uint64_t non_negative(const json::Value& v, std::string_view source, const std::string& what) {
  if (!v.is_int() || v.as_int() < 0) {
    bad_file(source, what + " must be a non-negative integer, got " +
                         (v.is_number() ? json::dump(v) : json::kind_name(v.kind())));
  }
  return static_cast<uint64_t>(v.as_int());
}

Entry parse_entry(const std::string& name, const json::Value& info, std::string_view source) {
  const std::string where = "tensor '" + name + "'";
  if (!info.is_object()) {
    bad_file(source, where + ": expected an object, got " + json::kind_name(info.kind()));
  }
  for (const auto& [key, value] : info.as_object()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      bad_file(source, where + ": unknown field '" + key + "'");
    }
  }
  const json::Value* dtype = info.find("dtype");
  const json::Value* shape = info.find("shape");
  const json::Value* offsets = info.find("data_offsets");
  if (dtype == nullptr || shape == nullptr || offsets == nullptr) {
    bad_file(source, where + ": needs the fields dtype, shape and data_offsets");
  }
  Entry entry;
  entry.name = name;
  if (!dtype->is_string()) bad_file(source, where + ": dtype must be a string");
  const auto code = std::find_if(kDTypeCodes.begin(), kDTypeCodes.end(),
                                 [&](const DTypeCode& c) { return dtype->as_string() == c.code; });
  if (code == kDTypeCodes.end()) {
    bad_file(source, where + ": unsupported dtype '" + dtype->as_string() +
                         "' (ignis reads F32, F64, I64, I32, U8, BOOL)");
  }
  entry.dtype = code->dtype;

  if (!shape->is_array()) bad_file(source, where + ": shape must be an array");
  // NOTE: the product of the non-zero sizes must fit too, even in an empty tensor, or the
  // tensor's strides would overflow.
  constexpr auto kMaxBytes = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t nbytes = itemsize(entry.dtype);
  bool empty = false;
  for (const json::Value& size : shape->as_array()) {
    const uint64_t s = non_negative(size, source, where + ": shape entry");
    if (s != 0 && nbytes > kMaxBytes / s) {
      Shape sizes;
      for (const json::Value& v : shape->as_array()) sizes.push_back(v.is_int() ? v.as_int() : -1);
      bad_file(source, where + ": shape " + shape_str(sizes) + " of " + code->code +
                           " overflows the byte count");
    }
    entry.shape.push_back(static_cast<int64_t>(s));
    if (s == 0) empty = true;
    else nbytes *= s;
  }
  if (empty) nbytes = 0;

  if (!offsets->is_array() || offsets->as_array().size() != 2) {
    bad_file(source, where + ": data_offsets must be an array [begin, end]");
  }
  entry.begin = non_negative(offsets->as_array()[0], source, where + ": data_offsets begin");
  entry.end = non_negative(offsets->as_array()[1], source, where + ": data_offsets end");
  if (entry.begin > entry.end) {
    bad_file(source, where + ": data_offsets " + offsets_str(entry.begin, entry.end) +
                         " end before they begin");
  }
  if (entry.end - entry.begin != nbytes) {
    bad_file(source, where + ": data_offsets " + offsets_str(entry.begin, entry.end) +
                         " do not match shape " + shape_str(entry.shape) + " of " + code->code +
                         " (" + std::to_string(nbytes) + " bytes)");
  }
  return entry;
}

// The header's JSON text, checked entry by entry and then for a buffer of `buffer_size`
// bytes that the tensors cover exactly, with no gap and no overlap.
Header parse_header(std::string_view text, uint64_t buffer_size, std::string_view source) {
  if (text.empty() || text.front() != '{') bad_file(source, "header does not start with '{'");
  const json::Value root = json::parse(text, {.source = source, .base_offset = 8});
  Header header;
  for (const auto& [name, info] : root.as_object()) {
    if (name == kMetadataKey) {
      if (!info.is_object()) bad_file(source, "__metadata__ must be an object of strings");
      for (const auto& [key, value] : info.as_object()) {
        if (!value.is_string()) {
          bad_file(source, "__metadata__ '" + key + "': value must be a string, got " +
                               json::kind_name(value.kind()));
        }
        header.metadata.emplace(key, value.as_string());
      }
    } else {
      header.entries.push_back(parse_entry(name, info, source));
    }
  }
  std::vector<const Entry*> by_offset;
  for (const Entry& e : header.entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t expected = 0;
  for (const Entry* e : by_offset) {
    if (e->begin != expected) {
      bad_file(source, "tensor '" + e->name + "': data_offsets " +
                           offsets_str(e->begin, e->end) +
                           (e->begin < expected ? " overlap" : " leave a gap after") +
                           " the previous tensor, which ends at " + std::to_string(expected));
    }
    expected = e->end;
  }
  if (expected != buffer_size) {
    bad_file(source, "tensors cover " + std::to_string(expected) +
                         " bytes, but the data buffer after the header is " +
                         std::to_string(buffer_size) + " bytes");
  }
  return header;
}

// The whole read, over a source of `file_size` bytes read by read_at(offset, dst, n).
template <typename ReadAt>
SafetensorsFile read_safetensors(uint64_t file_size, ReadAt&& read_at, std::string_view source) {
  if (file_size < 8) {
    bad_file(source, "file is " + std::to_string(file_size) +
                         " bytes, too short for the 8-byte header length");
  }
  unsigned char prefix[8];
  read_at(0, prefix, 8);
  const uint64_t n = header_length(prefix, file_size, source);
  std::string text(n, '\0');
  read_at(8, text.data(), n);
  Header header = parse_header(text, file_size - 8 - n, source);

  SafetensorsFile file;
  file.metadata = std::move(header.metadata);
  for (Entry& e : header.entries) {
    Tensor t = make_tensor(e.shape, e.dtype, Device::cpu());
    const uint64_t nbytes = e.end - e.begin;
    if (nbytes > 0) read_at(8 + n + e.begin, t.raw_data(), nbytes);
    if (e.dtype == kBool) {
      const auto* bytes = static_cast<const unsigned char*>(t.raw_data());
      for (uint64_t i = 0; i < nbytes; ++i) {
        if (bytes[i] > 1) {
          bad_file(source, "tensor '" + e.name + "': BOOL byte " + std::to_string(i) +
                               " is " + std::to_string(bytes[i]) + ", not 0 or 1");
        }
      }
    }
    file.tensors.emplace_back(std::move(e.name), std::move(t));
  }
  return file;
}

}  // namespace

std::string safetensors_to_bytes(const NamedTensors& tensors,
                                 const SafetensorsMetadata& metadata) {
  Layout layout = make_layout(tensors, metadata);
  std::string out = std::move(layout.header);
  for (const auto& [name, t] : layout.tensors) {
    out.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  }
  return out;
}

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata) {
  const Layout layout = make_layout(tensors, metadata);
  AtomicFile file(path);
  file.write(layout.header);
  for (const auto& [name, t] : layout.tensors) file.write(t.raw_data(), t.nbytes());
  file.commit();
}

SafetensorsFile safetensors_from_bytes(std::string_view bytes, std::string_view source) {
  return read_safetensors(
      bytes.size(),
      [&](uint64_t offset, void* dst, uint64_t n) { std::memcpy(dst, bytes.data() + offset, n); },
      source);
}

SafetensorsFile load_safetensors(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_file(source, "cannot open the file");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) bad_file(source, "cannot read the file's size");
  auto read_at = [&](uint64_t offset, void* dst, uint64_t n) {
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (!in || static_cast<uint64_t>(in.gcount()) != n) {
      bad_file(source, "cannot read " + std::to_string(n) + " bytes at offset " +
                           std::to_string(offset));
    }
  };
  return read_safetensors(static_cast<uint64_t>(size), read_at, source);
}

}  // namespace ignis
