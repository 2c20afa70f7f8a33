// AtomicFile and write_file_atomic over POSIX open / write / fsync / rename.
// Not buffered: callers write in large pieces (a header, a tensor's bytes).
#include "tensor/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "tensor/error.h"

namespace ignis {

namespace {

std::atomic<uint64_t> temp_counter{0};

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
  temp_path_ = path_;
  temp_path_ += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(temp_counter++);
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) fail("cannot create", errno);
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFile::fail(const std::string& what, int error) {
  discard();
  throw IOError("atomic write of '" + path_.string() + "': " + what + " '" + temp_path_.string() +
              "': " + std::strerror(error));
}

void AtomicFile::write(const void* data, size_t size) {
  if (committed_ || fd_ < 0) {
    throw IOError("atomic write of '" + path_.string() + "': write after commit or failure");
  }
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", errno);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  if (committed_ || fd_ < 0) {
    throw IOError("atomic write of '" + path_.string() + "': commit after commit or failure");
  }
  if (::fsync(fd_) != 0) fail("cannot fsync", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp_path_.c_str());
    throw IOError("atomic write of '" + path_.string() + "': cannot close '" +
                temp_path_.string() + "': " + std::strerror(error));
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp_path_.c_str());
    throw IOError("atomic write of '" + path_.string() + "': cannot rename '" +
                temp_path_.string() + "' over it: " + std::strerror(error));
  }
  committed_ = true;
  // Best effort: the data is in place; a directory that cannot be fsync'ed (some network
  // file systems) only weakens the guarantee after a power loss.
  std::filesystem::path dir = path_.parent_path();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

}  // namespace ignis
