// IDX reading: the whole file is read (decompressed) into memory, checked against its
// header, then converted from big-endian into a tensor.
#include "data/idx.h"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#ifdef IGNIS_HAVE_ZLIB
#include <zlib.h>
#endif

#include "tensor/error.h"
#include "tensor/factory.h"

namespace ignis::data {

namespace {

bool has_gzip_magic(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string read_plain(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                        &std::fclose);
  if (!file) {
    throw IOError("read_idx: cannot open '" + path.string() + "': " + std::strerror(errno));
  }
  std::string bytes;
  std::array<char, 1 << 16> chunk;
  size_t got = 0;
  while ((got = std::fread(chunk.data(), 1, chunk.size(), file.get())) > 0) {
    bytes.append(chunk.data(), got);
  }
  if (std::ferror(file.get())) throw IOError("read_idx: cannot read '" + path.string() + "'");
  return bytes;
}

std::string gunzip(const std::filesystem::path& path) {
#ifdef IGNIS_HAVE_ZLIB
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw IOError("read_idx: cannot open '" + path.string() + "'");
  gzbuffer(file, 1 << 17);
  std::string bytes;
  std::array<char, 1 << 16> chunk;
  int got = 0;
  while ((got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
    bytes.append(chunk.data(), static_cast<size_t>(got));
  }
  int code = 0;
  std::string message = got < 0 ? gzerror(file, &code) : "";
  gzclose(file);
  if (got < 0) {
    throw ParseError("read_idx: '" + path.string() + "': corrupt gzip data (" + message + ")");
  }
  return bytes;
#else
  throw IOError("read_idx: '" + path.string() +
                "' is gzip-compressed and this build has no zlib: decompress it first "
                "(gunzip -k '" + path.string() + "') or rebuild with zlib");
#endif
}

uint32_t big_endian_u32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Converts n big-endian values of `width` bytes starting at src into dst (of type Out),
// reading each as In.
template <class In, class Out>
void convert_big_endian(const unsigned char* src, int64_t n, Out* dst) {
  for (int64_t i = 0; i < n; ++i) {
    std::array<unsigned char, sizeof(In)> bytes;
    for (size_t b = 0; b < sizeof(In); ++b) bytes[b] = src[i * sizeof(In) + sizeof(In) - 1 - b];
    In value;
    std::memcpy(&value, bytes.data(), sizeof(In));
    dst[i] = static_cast<Out>(value);
  }
}

}  // namespace

bool idx_supports_gzip() {
#ifdef IGNIS_HAVE_ZLIB
  return true;
#else
  return false;
#endif
}

Tensor read_idx(const std::filesystem::path& path) {
  std::string bytes = read_plain(path);
  if (has_gzip_magic(bytes)) bytes = gunzip(path);
  const std::string name = "read_idx: '" + path.string() + "'";
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4 || data[0] != 0 || data[1] != 0) {
    throw ParseError(name + ": not an IDX file (expected 2 zero bytes, a type byte and a rank)");
  }
  const unsigned type = data[2];
  const size_t rank = data[3];
  size_t width = 0;
  DType dtype = kUInt8;
  switch (type) {
    case 0x08: width = 1; dtype = kUInt8; break;
    case 0x09: width = 1; dtype = kInt32; break;
    case 0x0B: width = 2; dtype = kInt32; break;
    case 0x0C: width = 4; dtype = kInt32; break;
    case 0x0D: width = 4; dtype = kFloat32; break;
    case 0x0E: width = 8; dtype = kFloat64; break;
    default:
      throw ParseError(name + ": unknown IDX type byte 0x" + [&] {
        char hex[3];
        std::snprintf(hex, sizeof(hex), "%02x", type);
        return std::string(hex);
      }());
  }
  const size_t header = 4 + 4 * rank;
  if (bytes.size() < header) {
    throw ParseError(name + ": truncated header (" + std::to_string(rank) + " sizes expected)");
  }
  Shape shape(rank);
  uint64_t numel = 1;
  for (size_t d = 0; d < rank; ++d) {
    shape[d] = big_endian_u32(data + 4 + 4 * d);
    numel *= static_cast<uint64_t>(shape[d]);
    if (numel > (uint64_t{1} << 40)) throw ParseError(name + ": sizes too large");
  }
  const uint64_t expected = header + numel * width;
  if (bytes.size() != expected) {
    throw ParseError(name + ": " + std::to_string(bytes.size()) + " bytes, the header says " +
                     std::to_string(expected));
  }
  Tensor out = empty(shape, {.dtype = dtype});
  const unsigned char* values = data + header;
  const auto n = static_cast<int64_t>(numel);
  switch (type) {
    case 0x08: std::memcpy(out.data_ptr<uint8_t>(), values, numel); break;
    case 0x09: convert_big_endian<int8_t>(values, n, out.data_ptr<int32_t>()); break;
    case 0x0B: convert_big_endian<int16_t>(values, n, out.data_ptr<int32_t>()); break;
    case 0x0C: convert_big_endian<int32_t>(values, n, out.data_ptr<int32_t>()); break;
    case 0x0D: convert_big_endian<float>(values, n, out.data_ptr<float>()); break;
    default: convert_big_endian<double>(values, n, out.data_ptr<double>()); break;
  }
  return out;
}

MnistSplit load_mnist(const std::filesystem::path& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  auto find = [&](const std::string& stem) {
    for (const std::string& name : {stem, stem + ".gz"}) {
      if (std::filesystem::exists(dir / name)) return dir / name;
    }
    throw IOError("load_mnist: no '" + stem + "' or '" + stem + ".gz' in '" + dir.string() + "'");
  };
  const auto images_path = find(prefix + "-images-idx3-ubyte");
  const auto labels_path = find(prefix + "-labels-idx1-ubyte");
  MnistSplit split{read_idx(images_path), read_idx(labels_path)};
  if (split.images.dim() != 3 || split.labels.dim() != 1 ||
      split.images.size(0) != split.labels.size(0)) {
    throw ShapeError("load_mnist: images " + split.images.shape_str() + " in '" +
                     images_path.string() + "' and labels " + split.labels.shape_str() + " in '" +
                     labels_path.string() + "' do not match: expected (N, H, W) and (N,)");
  }
  split.labels = split.labels.to(kInt64);
  return split;
}

}  // namespace ignis::data
