// CSV files (RFC 4180): a streaming reader and a writer of records of string fields.
// Not a table or a type converter: fields stay strings; data/dataset.h gives them meaning.
//
// What the reader accepts:
//   - fields separated by options.delimiter; records ended by LF, CRLF or a lone CR; the last
//     record may lack its line end; blank lines (nothing between two line ends) are skipped;
//   - quoted fields ("..."): the delimiter, CR and LF inside are data, "" is one quote;
//   - a UTF-8 byte order mark at the very start, skipped;
//   - a quote inside an unquoted field (5" screen) is kept literally, as Python's csv module
//     and most spreadsheets do; only a quote opening a field starts a quoted field.
// What it rejects (ParseError): an unterminated quoted field, a character other than the
// delimiter or a line end after a closing quote, a record whose field count differs from the
// header's (or, without a header, from the first record's), and, with a header, an empty file.
//
// Positions in messages: `<name>:<line>:<col>:`, lines 1-based physical lines (a CR, LF or
// CRLF inside a quoted field counts), columns 1-based bytes within the line (the byte order
// mark not counted).
//
// NOTE: with a single column, an empty value written bare is a blank line and is skipped;
// CsvWriter writes it as "" so that it reads back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ignis::data {

struct CsvOptions {
  char delimiter = ',';  // any byte but '"', CR and LF
  bool header = true;    // the first record names the columns
};

// Streaming reader: reads the stream in 64 KiB chunks, so its memory is one chunk plus the
// current record, whatever the file's size (NOTE: an unterminated quote makes the rest of the
// file one record, held in memory until the error is thrown at the end).
//
//   CsvReader reader("train.csv");
//   const int64_t text = reader.column("text");
//   std::vector<std::string> fields;
//   while (reader.next(fields)) use(fields[text], reader.line());
class CsvReader {
 public:
  // Opens `path` (its string is the name in messages). Throws IOError
  // "cannot open 'F': No such file or directory" (the system's reason), ValueError for a
  // delimiter that is '"', CR or LF.
  explicit CsvReader(const std::filesystem::path& path, CsvOptions options = {});
  // Reads `in`, which must outlive the reader; `name` is used in messages. Throws ValueError
  // as above.
  CsvReader(std::istream& in, std::string name, CsvOptions options = {});
  ~CsvReader();
  CsvReader(CsvReader&&) noexcept;
  CsvReader& operator=(CsvReader&&) noexcept;

  // The header row; empty when options.header is false. The header is read on first use of
  // header(), column(), find_column() or next(), and throws there: ParseError
  // "F: empty file, expected a header row" for a file with no record, or any error of next().
  const std::vector<std::string>& header() const;
  // Index of the first header column named `name`. Throws ValueError
  // "F:1: no column 'label' (columns: id, text)" (the header's line), or
  // "F: no column 'label': the reader has no header" when options.header is false.
  int64_t column(std::string_view name) const;
  // As column(), nullopt when absent (or when there is no header).
  std::optional<int64_t> find_column(std::string_view name) const;

  // Reads the next record into `fields` (resized to its field count; each string's capacity
  // is reused from call to call); false at the end of the input. Throws ParseError:
  //   "F:L:C: unterminated quoted field" (L:C where the quote opened),
  //   "F:L:C: unexpected 'x' after a closing quote, expected ',' or a line end",
  //   "F:17: 3 fields, expected 2 (as the header)",
  // and IOError "F: read error" when the stream fails.
  bool next(std::vector<std::string>& fields);

  // Line where the record last returned by next() started; 0 before the first.
  int64_t line() const;
  // The name used in messages.
  const std::string& name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes records to `out` (which must outlive the writer), each ended by "\n". A field is
// quoted only when needed (see csv_escape); a row made of one empty field is written as "".
class CsvWriter {
 public:
  // Throws ValueError for a delimiter that is '"', CR or LF.
  explicit CsvWriter(std::ostream& out, char delimiter = ',');
  // Throws ValueError for an empty row (a record has at least one field), IOError
  // "CsvWriter: write failed" when the stream is in a failed state after writing.
  void write_row(const std::vector<std::string>& fields);

 private:
  std::ostream* out_;
  char delimiter_;
};

// `field` as a CSV field: unchanged unless it holds the delimiter, '"', CR or LF, or starts
// with a UTF-8 byte order mark (which a reader drops at the start of a file); then quoted,
// with each '"' doubled: a"b,c -> "a""b,c".
std::string csv_escape(std::string_view field, char delimiter = ',');

}  // namespace ignis::data
