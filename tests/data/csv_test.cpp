// Tests of data/csv.h: RFC 4180 reading (quotes, line ends, BOM, blank lines, chunk
// boundaries, streaming), the error messages with their positions, and writer round trips.
#include "data/csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "tensor/error.h"

namespace ignis::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using Rows = std::vector<std::vector<std::string>>;

constexpr size_t kChunk = 64 * 1024;  // the reader's chunk size, to put bytes on its edges

// Every record of `text` (after the header, when options.header) and its starting line.
struct Read {
  std::vector<std::string> header;
  Rows rows;
  std::vector<int64_t> lines;
};

Read read_all(const std::string& text, CsvOptions options = {}) {
  std::istringstream in(text);
  CsvReader reader(in, "f.csv", options);
  Read out;
  out.header = reader.header();
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    out.rows.push_back(fields);
    out.lines.push_back(reader.line());
  }
  return out;
}

Rows rows_of(const std::string& text, CsvOptions options = {}) {
  return read_all(text, options).rows;
}

TEST(CsvReader, ReadsHeaderAndRecords) {
  const Read r = read_all("id,text\n1,hello\n2,world\n");
  EXPECT_THAT(r.header, ElementsAre("id", "text"));
  EXPECT_EQ(r.rows, (Rows{{"1", "hello"}, {"2", "world"}}));
  EXPECT_THAT(r.lines, ElementsAre(2, 3));
}

TEST(CsvReader, LastLineWithoutNewlineAndEmptyFields) {
  EXPECT_EQ(rows_of("a,b,c\n1,,3\n,,\n4,5,"),
            (Rows{{"1", "", "3"}, {"", "", ""}, {"4", "5", ""}}));
  EXPECT_EQ(rows_of("a,b\n\"\",\"\"\n\"x\",y"), (Rows{{"", ""}, {"x", "y"}}));
}

TEST(CsvReader, QuotedFieldsHoldDelimitersQuotesAndNewlines) {
  const Read r = read_all(
      "id,text\n"
      "1,\"a, b\"\n"
      "2,\"say \"\"hi\"\"\"\n"
      "3,\"two\nlines\"\n"
      "4,\"crlf\r\ninside\"\n"
      "5,\"cr\rinside\"\n"
      "6,\"\"\"\"\n"
      "7,end\n");
  EXPECT_EQ(r.rows, (Rows{{"1", "a, b"},
                          {"2", "say \"hi\""},
                          {"3", "two\nlines"},
                          {"4", "crlf\r\ninside"},
                          {"5", "cr\rinside"},
                          {"6", "\""},
                          {"7", "end"}}));
  // Each embedded line end (LF, CRLF, CR) is one physical line.
  EXPECT_THAT(r.lines, ElementsAre(2, 3, 4, 6, 8, 10, 11));
}

TEST(CsvReader, CrlfAndLoneCrLineEnds) {
  const Read crlf = read_all("a,b\r\n1,2\r\n3,4\r\n");
  EXPECT_EQ(crlf.rows, (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_THAT(crlf.lines, ElementsAre(2, 3));
  const Read cr = read_all("a,b\r1,2\r3,4");
  EXPECT_EQ(cr.rows, (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_THAT(cr.lines, ElementsAre(2, 3));
  const Read quoted_last = read_all("a,b\r\n1,\"2\"\r\n3,\"4\"\r\n");
  EXPECT_EQ(quoted_last.rows, (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_THAT(quoted_last.lines, ElementsAre(2, 3));
}

TEST(CsvReader, SkipsBlankLinesAndCountsThem) {
  const Read r = read_all("\n\r\nid,text\n\n1,a\r\n\r\n\n2,b\n\n");
  EXPECT_THAT(r.header, ElementsAre("id", "text"));
  EXPECT_EQ(r.rows, (Rows{{"1", "a"}, {"2", "b"}}));
  EXPECT_THAT(r.lines, ElementsAre(5, 8));
}

TEST(CsvReader, SkipsUtf8ByteOrderMark) {
  const Read r = read_all("\xEF\xBB\xBFid,text\n1,\xC3\xA9t\xC3\xA9\n");
  EXPECT_THAT(r.header, ElementsAre("id", "text"));
  EXPECT_EQ(r.rows, (Rows{{"1", "\xC3\xA9t\xC3\xA9"}}));
  // Only at the very start: elsewhere those bytes are data.
  EXPECT_EQ(rows_of("a\n\xEF\xBB\xBFx\n"), (Rows{{"\xEF\xBB\xBFx"}}));
  // Columns count from after the mark.
  EXPECT_THAT([] { rows_of("\xEF\xBB\xBF\"id\"x,text\n"); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:1:5:")));
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsLiteral) {
  EXPECT_EQ(rows_of("a,b\n5\" screen,x\"y\"z\n"), (Rows{{"5\" screen", "x\"y\"z"}}));
}

TEST(CsvReader, OtherDelimiters) {
  EXPECT_EQ(rows_of("a\tb\n\"x\ty\"\t2\n1,2\t3\n", {.delimiter = '\t'}),
            (Rows{{"x\ty", "2"}, {"1,2", "3"}}));
  EXPECT_EQ(rows_of("a;b\n1;\"2;3\"\n", {.delimiter = ';'}), (Rows{{"1", "2;3"}}));
}

TEST(CsvReader, WithoutHeader) {
  std::istringstream in("1,2\n3,4\n");
  CsvReader reader(in, "f.csv", {.header = false});
  EXPECT_TRUE(reader.header().empty());
  EXPECT_EQ(reader.find_column("1"), std::nullopt);
  EXPECT_THAT([&] { reader.column("x"); },
              ThrowsMessage<ValueError>(HasSubstr("f.csv: no column 'x': the reader has no header")));
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.next(fields));
  EXPECT_THAT(fields, ElementsAre("1", "2"));
  EXPECT_EQ(reader.line(), 1);
  ASSERT_TRUE(reader.next(fields));
  EXPECT_THAT(fields, ElementsAre("3", "4"));
  EXPECT_FALSE(reader.next(fields));
  EXPECT_FALSE(reader.next(fields));

  EXPECT_TRUE(rows_of("", {.header = false}).empty());
  EXPECT_THAT([] { rows_of("1,2\n3\n", {.header = false}); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:2: 1 field, expected 2 (as the first record)")));
}

TEST(CsvReader, Columns) {
  std::istringstream in("id,text,text\n");
  CsvReader reader(in, "f.csv");
  EXPECT_EQ(reader.column("id"), 0);
  EXPECT_EQ(reader.column("text"), 1);  // the first of two
  EXPECT_EQ(reader.find_column("text"), 1);
  EXPECT_EQ(reader.find_column("label"), std::nullopt);
  EXPECT_EQ(reader.name(), "f.csv");
  EXPECT_EQ(reader.line(), 0);
  std::vector<std::string> fields;
  EXPECT_FALSE(reader.next(fields));  // a header-only file has no records
}

TEST(CsvReader, MissingColumnNamesTheColumns) {
  std::istringstream in("\nid,text\n1,a\n");
  CsvReader reader(in, "f.csv");
  EXPECT_THAT([&] { reader.column("label"); },
              ThrowsMessage<ValueError>(HasSubstr("f.csv:2: no column 'label' (columns: id, text)")));
}

TEST(CsvReader, UnterminatedQuoteNamesWhereItOpened) {
  EXPECT_THAT([] { rows_of("a,b\n1,2\n333,4,\"never\nclosed,\n\n"); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:3:7: unterminated quoted field")));
  EXPECT_THAT([] { rows_of("\"a"); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:1:1: unterminated quoted field")));
  EXPECT_THAT([] { rows_of("a\n\"x\"\"\n"); },  // the doubled quote is data, not a close
              ThrowsMessage<ParseError>(HasSubstr("f.csv:2:1: unterminated quoted field")));
}

TEST(CsvReader, CharacterAfterClosingQuote) {
  EXPECT_THAT([] { rows_of("a,b\n1,2\n3,\"45\"x\n"); },
              ThrowsMessage<ParseError>(
                  HasSubstr("f.csv:3:7: unexpected 'x' after a closing quote, expected ',' or a line end")));
  EXPECT_THAT([] { rows_of("a,b\n\"x\ny\" ,1\n"); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:3:3: unexpected ' ' after a closing quote")));
  EXPECT_THAT([] { rows_of("a\n\"x\"\xC3\xA9\n"); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:2:4: unexpected byte 0xC3")));
  EXPECT_THAT([] { rows_of("a;b\n\"x\",1\n", {.delimiter = ';'}); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:2:4: unexpected ',' after a closing quote, expected ';'")));
}

TEST(CsvReader, FieldCountMismatch) {
  EXPECT_THAT([] { rows_of("id,text\n1,a\n\n2,b,c\n"); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:4: 3 fields, expected 2 (as the header)")));
  EXPECT_THAT([] { rows_of("id,text\n1\n"); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:2: 1 field, expected 2 (as the header)")));
  // The line is where the record starts, even when a quoted field spans lines.
  EXPECT_THAT([] { rows_of("id,text\n\"1\n2\"\n"); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv:2: 1 field, expected 2")));
}

TEST(CsvReader, EmptyFile) {
  for (const std::string text : {"", "\xEF\xBB\xBF", "\n\r\n\n"}) {
    std::istringstream in(text);
    CsvReader reader(in, "f.csv");
    EXPECT_THAT([&] { reader.header(); },
                ThrowsMessage<ParseError>(HasSubstr("f.csv: empty file, expected a header row")));
  }
  std::istringstream in("");
  CsvReader reader(in, "f.csv");
  std::vector<std::string> fields;
  EXPECT_THAT([&] { reader.next(fields); },
              ThrowsMessage<ParseError>(HasSubstr("f.csv: empty file")));
}

TEST(CsvReader, RejectsBadDelimiters) {
  std::istringstream in("a\n");
  for (const char delimiter : {'"', '\n', '\r'}) {
    EXPECT_THAT([&] { CsvReader reader(in, "f.csv", {.delimiter = delimiter}); },
                ThrowsMessage<ValueError>(HasSubstr("CsvReader: the delimiter cannot be")));
    std::ostringstream out;
    EXPECT_THAT([&] { CsvWriter writer(out, delimiter); },
                ThrowsMessage<ValueError>(HasSubstr("CsvWriter: the delimiter cannot be")));
  }
}

TEST(CsvReader, ReusesFieldCapacity) {
  std::istringstream in("a,b\n" + std::string(1000, 'x') + ",y\nz,w\n");
  CsvReader reader(in, "f.csv");
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.next(fields));
  const char* data = fields[0].data();
  ASSERT_TRUE(reader.next(fields));
  EXPECT_EQ(fields[0], "z");
  EXPECT_EQ(fields[0].data(), data);
  EXPECT_GE(fields[0].capacity(), 1000u);
}

TEST(CsvReader, OpensFilesByPath) {
  const std::filesystem::path path =
      std::filesystem::path(::testing::TempDir()) / "ignis_csv_test_file.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << "id,text\n1,\"a\nb\"\n2,c\n3,\"d\n";
  }
  CsvReader reader(path);
  EXPECT_EQ(reader.name(), path.string());
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.next(fields));
  EXPECT_THAT(fields, ElementsAre("1", "a\nb"));
  ASSERT_TRUE(reader.next(fields));
  EXPECT_THAT(fields, ElementsAre("2", "c"));
  EXPECT_THAT([&] { reader.next(fields); },
              ThrowsMessage<ParseError>(HasSubstr(path.string() + ":5:3: unterminated quoted field")));
  std::filesystem::remove(path);

  const std::filesystem::path missing = path.parent_path() / "ignis_csv_no_such_file.csv";
  EXPECT_THAT([&] { CsvReader r(missing); },
              ThrowsMessage<IOError>(HasSubstr("cannot open '" + missing.string() +
                                               "': No such file or directory")));
  EXPECT_THAT([&] { CsvReader r(path.parent_path()); },
              ThrowsMessage<IOError>(HasSubstr("': Is a directory")));
}

// Puts each tricky byte sequence (a CRLF, a doubled quote, a closing quote, a delimiter)
// across the edge of the reader's 64 KiB chunks, at every offset.
TEST(CsvReader, ChunkBoundaries) {
  struct Case {
    std::string record;  // after a padding field and a delimiter
    std::vector<std::string> fields;
    int64_t extra_lines;  // physical lines after the record's first, up to the next one
  };
  const std::vector<Case> cases = {
      {"\"q\"\"q\"\r\n", {"q\"q"}, 0},
      {"\"a\r\nb\"\r\n", {"a\r\nb"}, 1},
      {"\"x\",\r\n", {"x", ""}, 0},
      {"plain,\"\"\r\n", {"plain", ""}, 0},
      {"\"\r\n\r\n\",x\r\n\r\n", {"\r\n\r\n", "x"}, 3},
  };
  for (const Case& c : cases) {
    for (size_t shift = 0; shift <= c.record.size() + 1; ++shift) {
      const size_t pad = kChunk - 1 - c.record.size() + shift;
      const std::string last = "last" + std::string(c.fields.size(), ',');
      const Read r = read_all(std::string(pad, 'p') + "," + c.record + last, {.header = false});
      std::vector<std::string> want = {std::string(pad, 'p')};
      want.insert(want.end(), c.fields.begin(), c.fields.end());
      ASSERT_EQ(r.rows.size(), 2u) << c.record << " shift " << shift;
      EXPECT_EQ(r.rows[0], want) << c.record << " shift " << shift;
      EXPECT_EQ(r.rows[1][0], "last");
      EXPECT_THAT(r.lines, ElementsAre(1, 2 + c.extra_lines)) << c.record << " shift " << shift;
    }
  }
}

TEST(CsvReader, QuotedFieldLongerThanChunks) {
  std::string value;
  for (int i = 0; i < 50000; ++i) value += i % 7 == 0 ? "\"\n" : "abc,";
  std::string quoted;
  for (const char ch : value) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  const Read r = read_all("a,b\n\"" + quoted + "\",1\nx,2\n");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0][0], value);
  EXPECT_EQ(r.rows[1], (std::vector<std::string>{"x", "2"}));
  EXPECT_THAT(r.lines, ElementsAre(2, 3 + (50000 + 6) / 7));
}

// A stream of `rows` generated records "i,text i\n" that counts the bytes it has handed out.
class GeneratedCsv : public std::streambuf {
 public:
  explicit GeneratedCsv(int64_t rows) : rows_(rows) {}
  int64_t delivered() const { return delivered_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (next_ > rows_) return traits_type::eof();
    chunk_ = next_ == 0 ? "id,text\n" : std::to_string(next_) + ",\"text, " + std::to_string(next_) + "\"\n";
    ++next_;
    delivered_ += static_cast<int64_t>(chunk_.size());
    setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
    return traits_type::to_int_type(*gptr());
  }

 private:
  int64_t rows_;
  int64_t next_ = 0;
  int64_t delivered_ = 0;
  std::string chunk_;
};

TEST(CsvReader, StreamsInChunks) {
  const int64_t rows = 1000000;  // about 25 MB
  GeneratedCsv source(rows);
  std::istream in(&source);
  CsvReader reader(in, "generated.csv");
  std::vector<std::string> fields;
  ASSERT_TRUE(reader.next(fields));
  EXPECT_LE(source.delivered(), static_cast<int64_t>(kChunk) + 64);  // one chunk, not the file
  int64_t count = 1;
  while (reader.next(fields)) {
    ++count;
    if (count % 99991 == 0) {
      ASSERT_EQ(fields[0], std::to_string(count));
      ASSERT_EQ(fields[1], "text, " + std::to_string(count));
      ASSERT_EQ(reader.line(), count + 1);
    }
  }
  EXPECT_EQ(count, rows);
}

TEST(CsvEscape, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_escape("plain text"), "plain text");
  EXPECT_EQ(csv_escape(""), "");
  EXPECT_EQ(csv_escape(" spaced "), " spaced ");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("a\"b,c"), "\"a\"\"b,c\"");
  EXPECT_EQ(csv_escape("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(csv_escape("cr\r"), "\"cr\r\"");
  EXPECT_EQ(csv_escape("a,b", ';'), "a,b");
  EXPECT_EQ(csv_escape("a;b", ';'), "\"a;b\"");
  EXPECT_EQ(csv_escape("\xEF\xBB\xBFid"), "\"\xEF\xBB\xBFid\"");
}

TEST(CsvWriter, WritesRows) {
  std::ostringstream out;
  CsvWriter writer(out);
  writer.write_row({"id", "label"});
  writer.write_row({"1", "say \"hi\", then\nleave"});
  writer.write_row({""});
  writer.write_row({"", ""});
  EXPECT_EQ(out.str(), "id,label\n1,\"say \"\"hi\"\", then\nleave\"\n\"\"\n,\n");
  EXPECT_THAT([&] { writer.write_row({}); },
              ThrowsMessage<ValueError>(HasSubstr("CsvWriter::write_row: a row needs at least one field")));
  std::ostringstream failed;
  failed.setstate(std::ios::badbit);
  CsvWriter broken(failed);
  EXPECT_THAT([&] { broken.write_row({"x"}); },
              ThrowsMessage<IOError>(HasSubstr("CsvWriter: write failed")));
}

// Random tables of fields built from awkward pieces, written and read back.
TEST(CsvWriter, RoundTrip) {
  const std::vector<std::string> pieces = {
      "a", "Z", "0", " ", ",", ";", "\t", "\"", "\"\"", "\n", "\r", "\r\n",
      "\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x98\x80", "\xEF\xBB\xBF", "'", "\\"};
  std::mt19937 rng(1234);
  for (const char delimiter : {',', '\t', ';'}) {
    for (int table = 0; table < 40; ++table) {
      const int columns = 1 + static_cast<int>(rng() % 4);
      const int rows = static_cast<int>(rng() % 30);
      Rows data;
      for (int i = 0; i < rows + 1; ++i) {  // + the header
        std::vector<std::string> row;
        for (int j = 0; j < columns; ++j) {
          std::string field;
          const int length = static_cast<int>(rng() % 6);
          for (int k = 0; k < length; ++k) field += pieces[rng() % pieces.size()];
          row.push_back(field);
        }
        data.push_back(row);
      }
      std::ostringstream out;
      CsvWriter writer(out, delimiter);
      for (const auto& row : data) writer.write_row(row);
      const std::string text = out.str();
      const Read r = read_all(text, {.delimiter = delimiter});
      EXPECT_EQ(r.header, data[0]) << text;
      EXPECT_EQ(r.rows, Rows(data.begin() + 1, data.end())) << text;
    }
  }
}

}  // namespace
}  // namespace ignis::data
