// The tokenizer rule of tokenizer.h: a strict UTF-8 decoder, the token-character test, the
// lowercase map and the scanning loop. Not locale-aware, on purpose: the rule is fixed.
#include "data/tokenizer.h"

#include <array>
#include <cstddef>
#include <string>

#include "tensor/error.h"

namespace ignis::data {

namespace {

// Rule steps 2 and 3 for ASCII: the byte a token character becomes, 0 for a separator.
constexpr std::array<char, 128> make_ascii_map(bool lowercase) {
  std::array<char, 128> map{};
  for (int c = '0'; c <= '9'; ++c) map[c] = static_cast<char>(c);
  for (int c = 'a'; c <= 'z'; ++c) map[c] = static_cast<char>(c);
  for (int c = 'A'; c <= 'Z'; ++c) map[c] = static_cast<char>(lowercase ? c + 0x20 : c);
  return map;
}
constexpr std::array<char, 128> kAsciiLowercase = make_ascii_map(true);
constexpr std::array<char, 128> kAsciiAsIs = make_ascii_map(false);

struct CodeRange {
  char32_t first;
  char32_t last;
};

// Rule step 2's separator ranges above ASCII, sorted, with U+0080-U+00BF split around its
// three exceptions (U+00AA, U+00B5, U+00BA).
constexpr CodeRange kSeparators[] = {
    {0x0080, 0x00A9}, {0x00AB, 0x00B4}, {0x00B6, 0x00B9}, {0x00BB, 0x00BF},
    {0x00D7, 0x00D7}, {0x00F7, 0x00F7}, {0x2000, 0x206F}, {0x20A0, 0x20CF},
    {0x2190, 0x2BFF}, {0x3000, 0x303F}, {0xFE00, 0xFE0F}, {0xFE30, 0xFE4F},
    {0xFF00, 0xFF0F}, {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
    {0x1F000, 0x1FAFF},
};

// Rule step 2 for a code point >= U+0080.
bool is_token_char(char32_t cp) {
  for (const CodeRange& range : kSeparators) {
    if (cp < range.first) return true;
    if (cp <= range.last) return false;
  }
  return true;
}

bool in(char32_t cp, char32_t first, char32_t last) { return cp >= first && cp <= last; }

// Rule step 3 for a code point >= U+0080.
char32_t to_lower(char32_t cp) {
  if (in(cp, 0x00C0, 0x00DE)) return cp == 0x00D7 ? cp : cp + 0x20;
  if (cp == 0x0178) return 0x00FF;
  if (in(cp, 0x0100, 0x0137) || in(cp, 0x014A, 0x0177)) return cp % 2 == 0 ? cp + 1 : cp;
  if (in(cp, 0x0139, 0x0148) || in(cp, 0x0179, 0x017E)) return cp % 2 == 1 ? cp + 1 : cp;
  if (in(cp, 0x0391, 0x03A9)) return cp == 0x03A2 ? cp : cp + 0x20;
  if (in(cp, 0x0410, 0x042F)) return cp + 0x20;
  if (in(cp, 0x0400, 0x040F)) return cp + 0x50;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    const char bytes[] = {static_cast<char>(0xC0 | (cp >> 6)),
                          static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(bytes, 2);
  } else if (cp < 0x10000) {
    const char bytes[] = {static_cast<char>(0xE0 | (cp >> 12)),
                          static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                          static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(bytes, 3);
  } else {
    const char bytes[] = {static_cast<char>(0xF0 | (cp >> 18)),
                          static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
                          static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                          static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(bytes, 4);
  }
}

// One multi-byte sequence: its code point and length, or why it is ill-formed (error != null).
struct Decoded {
  char32_t cp = 0;
  size_t length = 0;
  const char* error = nullptr;
};

// Decodes the sequence at p[0] (a byte >= 0x80), `left` bytes being readable. Strict as in
// the Unicode standard's table 3-7: the shortest form only, no surrogates, at most U+10FFFF.
Decoded decode_utf8(const unsigned char* p, size_t left) {
  const unsigned lead = p[0];
  if (lead < 0xC0) return {.error = "stray continuation byte"};
  if (lead < 0xC2) return {.error = "overlong encoding"};
  if (lead > 0xF7) return {.error = "byte 0xF8-0xFF, never used in UTF-8"};
  if (lead > 0xF4) return {.error = "code point above U+10FFFF"};
  const size_t length = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  char32_t cp = lead & (0x7Fu >> length);
  for (size_t k = 1; k < length; ++k) {
    if (k >= left || (p[k] & 0xC0) != 0x80) return {.error = "truncated sequence"};
    cp = (cp << 6) | (p[k] & 0x3F);
  }
  if ((length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000)) {
    return {.error = "overlong encoding"};
  }
  if (in(cp, 0xD800, 0xDFFF)) return {.error = "surrogate code point"};
  if (cp > 0x10FFFF) return {.error = "code point above U+10FFFF"};
  return {.cp = cp, .length = length};
}

[[noreturn]] void throw_invalid_utf8(std::string_view where, size_t offset, const char* reason) {
  std::string message;
  if (!where.empty()) {
    message.append(where);
    message += ": ";
  }
  message += "invalid UTF-8 at byte " + std::to_string(offset) + ": " + reason;
  throw ParseError(message);
}

}  // namespace

Tokenizer::Tokenizer(TokenizerOptions options) : options_(options) {}

std::vector<std::string> Tokenizer::operator()(std::string_view text,
                                               std::string_view where) const {
  std::vector<std::string> tokens;
  tokenize(text, tokens, where);
  return tokens;
}

void Tokenizer::tokenize(std::string_view text, std::vector<std::string>& out,
                         std::string_view where) const {
  const size_t first = out.size();
  const std::array<char, 128>& ascii = options_.lowercase ? kAsciiLowercase : kAsciiAsIs;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();

  std::string token;  // the token being built, reused for every token of the text
  size_t i = 0;
  while (i < n) {
    size_t length = 1;
    bool is_token = false;
    if (bytes[i] < 0x80) {
      const char c = ascii[bytes[i]];
      is_token = c != 0;
      if (is_token) token.push_back(c);
    } else {
      const Decoded decoded = decode_utf8(bytes + i, n - i);
      if (decoded.error != nullptr) {
        out.resize(first);
        throw_invalid_utf8(where, i, decoded.error);
      }
      length = decoded.length;
      is_token = is_token_char(decoded.cp);
      if (is_token && options_.lowercase) {
        append_utf8(token, to_lower(decoded.cp));
      } else if (is_token) {
        token.append(text.data() + i, length);
      }
    }
    if (!is_token && !token.empty()) {
      out.emplace_back(token);
      token.clear();
    }
    i += length;
  }
  if (!token.empty()) out.emplace_back(token);

  const size_t last = out.size();
  if (options_.bigrams && last - first >= 2) {
    // Reserved first, so that out[k] stays valid while the bigrams are appended.
    out.reserve(last + (last - first - 1));
    for (size_t k = first; k + 1 < last; ++k) {
      std::string& bigram = out.emplace_back();
      bigram.reserve(out[k].size() + 1 + out[k + 1].size());
      bigram.append(out[k]).append(1, ' ').append(out[k + 1]);
    }
  }
}

}  // namespace ignis::data
