// The CSV reader and writer declared in csv.h: a byte-level state machine over a 64 KiB
// buffer. Not a general text decoder: bytes other than the delimiter, '"', CR and LF pass
// through untouched, so UTF-8 (or any ASCII-compatible encoding) is kept as is.
#include "data/csv.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <ostream>
#include <string_view>
#include <system_error>
#include <utility>

#include "tensor/error.h"

namespace ignis::data {

namespace {

constexpr size_t kChunkBytes = 64 * 1024;

void check_delimiter(char delimiter, const char* who) {
  if (delimiter == '"' || delimiter == '\r' || delimiter == '\n') {
    throw ValueError(std::string(who) + ": the delimiter cannot be '\"', CR or LF");
  }
}

// A byte for a message: 'x' when printable ASCII, else its value (byte 0xC3).
std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
  const char* digits = "0123456789ABCDEF";
  return std::string("byte 0x") + digits[u >> 4] + digits[u & 0xF];
}

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// NOTE: a field starting with a byte order mark is quoted too, or a reader would drop the
// mark when the field opens the file.
bool needs_quotes(std::string_view field, char delimiter) {
  const char specials[] = {delimiter, '"', '\r', '\n'};
  return field.find_first_of(std::string_view(specials, 4)) != std::string_view::npos ||
         field.starts_with(kByteOrderMark);
}

}  // namespace

struct CsvReader::Impl {
  // How a field ended; the terminator is left unconsumed.
  enum class End { Delimiter, LineEnd, Eof };

  std::ifstream file;  // open only when the reader was given a path
  std::istream* in = nullptr;
  std::string name;
  CsvOptions options;

  std::unique_ptr<char[]> buffer{new char[kChunkBytes]};
  size_t pos = 0;              // next unread byte of buffer
  size_t end = 0;              // bytes of buffer holding data
  int64_t base = 0;            // stream offset of buffer[0]
  bool started = false;        // the first chunk has been read (and the BOM skipped)

  int64_t line = 1;            // physical line of buffer[pos]
  int64_t line_start = 0;      // stream offset where that line starts
  int64_t last_cr = -2;        // stream offset of the last CR seen, to count CRLF once
  int64_t record_line = 0;     // line where the last record returned started

  bool header_read = false;
  std::vector<std::string> header;
  int64_t header_line = 0;
  int64_t expected_fields = -1;  // -1: not known yet (no header, before the first record)

  Impl(std::string stream_name, CsvOptions opts) : name(std::move(stream_name)), options(opts) {
    check_delimiter(options.delimiter, "CsvReader");
  }

  int64_t offset(size_t index) const { return base + static_cast<int64_t>(index); }
  int64_t column(size_t index) const { return offset(index) - line_start + 1; }
  std::string where(int64_t at_line, int64_t at_column) const {
    return name + ":" + std::to_string(at_line) + ":" + std::to_string(at_column);
  }

  // Makes buffer[pos] valid; false at the end of the stream.
  bool fill() {
    if (pos < end) return true;
    base += static_cast<int64_t>(end);
    pos = 0;
    in->read(buffer.get(), static_cast<std::streamsize>(kChunkBytes));
    end = static_cast<size_t>(in->gcount());
    if (in->bad()) throw IOError(name + ": read error");
    return end > 0;
  }

  void start() {
    started = true;
    if (!fill()) return;
    // NOTE: istream::read fills the whole chunk unless the stream ends, so a BOM is never split.
    if (std::string_view(buffer.get(), end).starts_with(kByteOrderMark)) {
      pos = 3;
      line_start = 3;
    }
  }

  // Counts the line end `c` (CR or LF) found at stream offset `at`; the LF of a CRLF is not a
  // second line.
  void newline(char c, int64_t at) {
    if (c == '\r') {
      last_cr = at;
      ++line;
    } else if (at != last_cr + 1) {
      ++line;
    }
    line_start = at + 1;
  }

  bool skip_blank_lines() {
    while (fill()) {
      const char c = buffer[pos];
      if (c != '\n' && c != '\r') return true;
      newline(c, offset(pos));
      ++pos;
    }
    return false;
  }

  End read_unquoted(std::string& field) {
    const char delimiter = options.delimiter;
    while (fill()) {
      const char* first = buffer.get() + pos;
      const char* last = buffer.get() + end;
      const char* p = first;
      while (p != last && *p != delimiter && *p != '\n' && *p != '\r') ++p;
      field.append(first, p);
      pos += static_cast<size_t>(p - first);
      if (p != last) return *p == delimiter ? End::Delimiter : End::LineEnd;
    }
    return End::Eof;
  }

  // Called with buffer[pos] the opening quote.
  End read_quoted(std::string& field) {
    const int64_t open_line = line;
    const int64_t open_column = column(pos);
    ++pos;
    while (true) {
      if (!fill()) {
        throw ParseError(where(open_line, open_column) +
                         ": unterminated quoted field (no closing quote before the end of the file)");
      }
      const char* first = buffer.get() + pos;
      const char* last = buffer.get() + end;
      const char* p = first;
      for (; p != last && *p != '"'; ++p) {
        if (*p == '\n' || *p == '\r') newline(*p, offset(pos + static_cast<size_t>(p - first)));
      }
      field.append(first, p);
      pos += static_cast<size_t>(p - first);
      if (p == last) continue;
      ++pos;  // the quote: closing, or the first of a doubled one
      if (!fill()) return End::Eof;
      const char c = buffer[pos];
      if (c == '"') {
        field.push_back('"');
        ++pos;
      } else if (c == options.delimiter) {
        return End::Delimiter;
      } else if (c == '\n' || c == '\r') {
        return End::LineEnd;
      } else {
        throw ParseError(where(line, column(pos)) + ": unexpected " + describe_byte(c) +
                         " after a closing quote, expected '" + options.delimiter +
                         "' or a line end");
      }
    }
  }

  // Reads one record into `fields` (resized to its field count); false at the end of the input.
  bool read_record(std::vector<std::string>& fields) {
    if (!started) start();
    if (!skip_blank_lines()) return false;
    record_line = line;
    size_t count = 0;
    while (true) {
      if (count == fields.size()) fields.emplace_back();
      std::string& field = fields[count++];
      field.clear();
      // After a delimiter ending a chunk the buffer may be empty: a field at the end is empty.
      const End how = fill() && buffer[pos] == '"' ? read_quoted(field) : read_unquoted(field);
      if (how == End::Eof) break;
      const char c = buffer[pos++];
      if (how == End::LineEnd) {
        newline(c, offset(pos - 1));
        break;
      }
    }
    fields.resize(count);
    return true;
  }

  void read_header() {
    header_read = true;
    if (!options.header) return;
    if (!read_record(header)) throw ParseError(name + ": empty file, expected a header row");
    header_line = record_line;
    record_line = 0;  // line() speaks of records returned by next()
    expected_fields = static_cast<int64_t>(header.size());
  }

  bool next(std::vector<std::string>& fields) {
    if (!header_read) read_header();
    if (!read_record(fields)) return false;
    const auto count = static_cast<int64_t>(fields.size());
    if (expected_fields < 0) expected_fields = count;
    if (count != expected_fields) {
      const std::string as = options.header ? "the header" : "the first record";
      throw ParseError(name + ":" + std::to_string(record_line) + ": " + std::to_string(count) +
                       (count == 1 ? " field" : " fields") + ", expected " +
                       std::to_string(expected_fields) + " (as " + as + ")");
    }
    return true;
  }
};

CsvReader::CsvReader(const std::filesystem::path& path, CsvOptions options)
    : impl_(std::make_unique<Impl>(path.string(), options)) {
  const std::string& name = impl_->name;
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw IOError("cannot open '" + name + "': " + std::strerror(EISDIR));
  }
  errno = 0;
  impl_->file.open(path, std::ios::binary);
  if (!impl_->file) {
    const int reason = errno;
    throw IOError("cannot open '" + name + "': " +
                  (reason != 0 ? std::strerror(reason) : "cannot be read"));
  }
  impl_->in = &impl_->file;
}

CsvReader::CsvReader(std::istream& in, std::string name, CsvOptions options)
    : impl_(std::make_unique<Impl>(std::move(name), options)) {
  impl_->in = &in;
}

CsvReader::~CsvReader() = default;
CsvReader::CsvReader(CsvReader&&) noexcept = default;
CsvReader& CsvReader::operator=(CsvReader&&) noexcept = default;

const std::vector<std::string>& CsvReader::header() const {
  if (!impl_->header_read) impl_->read_header();
  return impl_->header;
}

std::optional<int64_t> CsvReader::find_column(std::string_view name) const {
  const std::vector<std::string>& columns = header();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int64_t>(i);
  }
  return std::nullopt;
}

int64_t CsvReader::column(std::string_view name) const {
  if (const std::optional<int64_t> index = find_column(name)) return *index;
  if (!impl_->options.header) {
    throw ValueError(impl_->name + ": no column '" + std::string(name) +
                     "': the reader has no header");
  }
  std::string columns;
  for (const std::string& column : impl_->header) {
    if (!columns.empty()) columns += ", ";
    columns += column;
  }
  throw ValueError(impl_->name + ":" + std::to_string(impl_->header_line) + ": no column '" +
                   std::string(name) + "' (columns: " + columns + ")");
}

bool CsvReader::next(std::vector<std::string>& fields) { return impl_->next(fields); }

int64_t CsvReader::line() const { return impl_->record_line; }

const std::string& CsvReader::name() const { return impl_->name; }

std::string csv_escape(std::string_view field, char delimiter) {
  if (!needs_quotes(field, delimiter)) return std::string(field);
  std::string out;
  out.reserve(field.size() + 2);
  out.push_back('"');
  for (const char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

CsvWriter::CsvWriter(std::ostream& out, char delimiter) : out_(&out), delimiter_(delimiter) {
  check_delimiter(delimiter, "CsvWriter");
}

void CsvWriter::write_row(const std::vector<std::string>& fields) {
  if (fields.empty()) throw ValueError("CsvWriter::write_row: a row needs at least one field");
  if (fields.size() == 1 && fields[0].empty()) {
    out_->write("\"\"", 2);
  } else {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out_->put(delimiter_);
      const std::string& field = fields[i];
      if (needs_quotes(field, delimiter_)) {
        *out_ << csv_escape(field, delimiter_);
      } else {
        out_->write(field.data(), static_cast<std::streamsize>(field.size()));
      }
    }
  }
  out_->put('\n');
  if (!*out_) throw IOError("CsvWriter: write failed");
}

}  // namespace ignis::data
