// Atomic file writes: the bytes go to a temporary file in the target's directory, which is
// flushed, fsync'ed and renamed over the target, so readers see the old file or the whole new
// one, never a half-written one. POSIX only. Not a file format: see safetensors.h and others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ignis {

// RAII writer: opens "<path>.tmp.<pid>.<counter>" next to `path`; write() appends to it;
// commit() makes it `path`. Destroyed without commit() (an exception on the way), it removes
// the temporary file and leaves `path` as it was.
//
//   AtomicFile file("model.safetensors");
//   file.write(header);
//   file.write(data);
//   file.commit();
//
// Every failure (create, write, fsync, rename) throws ignis::IOError naming the file and the
// system's reason, after removing the temporary file.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  // Flushes and fsyncs the data, renames the temporary file over the target, then fsyncs the
  // directory so that the rename itself survives a crash. At most once.
  void commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }
  bool committed() const { return committed_; }

 private:
  [[noreturn]] void fail(const std::string& what, int error);
  void discard() noexcept;  // closes and removes the temporary file

  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Writes `bytes` as the whole content of `path`, atomically (see AtomicFile).
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace ignis
