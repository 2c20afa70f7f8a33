// Checkpoint: file names, the all-or-nothing write of one checkpoint, rotation, and the engine
// state's small JSON file. Not a serializer of models: the save functions are the caller's.
#include "engine/handlers/checkpoint.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <system_error>

namespace ignis::engine {

namespace fs = std::filesystem;

namespace {

// The values of the {fields} a filename_pattern may use.
struct NameFields {
  std::string filename_prefix{};
  std::string name{};
  std::string global_step{};
  std::string score_name{};
  std::string score{};
  std::string ext{};
};

// Replaces each {field} of `pattern`. Throws std::invalid_argument for an unknown field or an
// unclosed '{'.
std::string expand_pattern(const std::string& pattern, const NameFields& fields) {
  const std::map<std::string, const std::string*> lookup = {
      {"filename_prefix", &fields.filename_prefix},
      {"name", &fields.name},
      {"global_step", &fields.global_step},
      {"score_name", &fields.score_name},
      {"score", &fields.score},
      {"ext", &fields.ext}};
  std::string out;
  size_t pos = 0;
  while (pos < pattern.size()) {
    const size_t open = pattern.find('{', pos);
    if (open == std::string::npos) break;
    const size_t close = pattern.find('}', open);
    if (close == std::string::npos) {
      throw std::invalid_argument("Checkpoint: filename_pattern '" + pattern +
                                  "' has an unclosed '{'");
    }
    const std::string field = pattern.substr(open + 1, close - open - 1);
    auto found = lookup.find(field);
    if (found == lookup.end()) {
      throw std::invalid_argument("Checkpoint: unknown field {" + field +
                                  "} in filename_pattern '" + pattern +
                                  "'; expected {filename_prefix}, {name}, {global_step}, "
                                  "{score_name}, {score} or {ext}");
    }
    out += pattern.substr(pos, open - pos) + *found->second;
    pos = close + 1;
  }
  return out + pattern.substr(pos);
}

// Ignite's default pattern for the options and this call (see CheckpointOptions).
std::string default_pattern(const CheckpointOptions& options) {
  std::string pattern = options.filename_prefix.empty() ? "" : "{filename_prefix}_";
  pattern += "{name}";
  if (options.global_step_transform || !options.score_function) pattern += "_{global_step}";
  if (!options.score_name.empty()) {
    pattern += "_{score_name}={score}";
  } else if (options.score_function) {
    pattern += "_{score}";
  }
  return pattern + ".{ext}";
}

std::string format_score(double score) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.4f", score);
  return buffer;
}

// The message of the exception being handled.
std::string current_message() {
  try {
    throw;
  } catch (const std::exception& error) {
    return error.what();
  } catch (...) {
    return "a non-standard exception";
  }
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

// Opens `dirname` for checkpoints of objects with these extensions (see the constructor).
void prepare_directory(const fs::path& dirname, const std::set<std::string>& exts,
                       const CheckpointOptions& options) {
  std::error_code error;
  if (!fs::exists(dirname, error)) {
    if (!options.create_dir) {
      throw std::runtime_error("Checkpoint: directory '" + dirname.string() +
                               "' does not exist (and create_dir is false)");
    }
    fs::create_directories(dirname, error);
    if (error) {
      throw std::runtime_error("Checkpoint: cannot create directory '" + dirname.string() +
                               "': " + error.message());
    }
    return;
  }
  if (!fs::is_directory(dirname, error)) {
    throw std::runtime_error("Checkpoint: '" + dirname.string() + "' is not a directory");
  }
  if (!options.require_empty) return;
  std::vector<std::string> found;
  for (const fs::directory_entry& entry : fs::directory_iterator(dirname, error)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && !ext.empty() && exts.contains(ext.substr(1))) {
      found.push_back(entry.path().filename().string());
    }
  }
  if (error) {
    throw std::runtime_error("Checkpoint: cannot list directory '" + dirname.string() +
                             "': " + error.message());
  }
  if (found.empty()) return;
  std::sort(found.begin(), found.end());
  std::string names;
  for (size_t i = 0; i < found.size() && i < 3; ++i) names += (i ? ", " : "") + found[i];
  if (found.size() > 3) names += ", ...";
  throw std::runtime_error("Checkpoint: directory '" + dirname.string() + "' already holds " +
                           std::to_string(found.size()) + " checkpoint file(s) (" + names +
                           "); pass require_empty = false to use it anyway");
}

}  // namespace

struct Checkpoint::Shared {
  std::map<std::string, Saver> to_save;
  CheckpointOptions options;
  std::string pattern;
  std::vector<Item> saved;  // ascending priority

  // Writes every object of `item` to its temporary file, then renames them all into place;
  // on any failure removes what it wrote and throws.
  void write(const Item& item) const;
};

Checkpoint::Checkpoint(std::map<std::string, Saver> to_save, CheckpointOptions options)
    : shared_(std::make_shared<Shared>()) {
  if (to_save.empty()) throw std::invalid_argument("Checkpoint: no object to save");
  std::set<std::string> exts;
  for (const auto& [name, saver] : to_save) {
    if (name.empty() || name.find('/') != std::string::npos) {
      throw std::invalid_argument("Checkpoint: object name '" + name +
                                  "' must be non-empty and have no '/'");
    }
    if (!saver.save) {
      throw std::invalid_argument("Checkpoint: object '" + name + "' has no save function");
    }
    exts.insert(saver.ext);
  }
  if (options.n_saved < 0) {
    throw std::invalid_argument("Checkpoint: n_saved must be >= 0 (0 keeps all), got " +
                                std::to_string(options.n_saved));
  }
  if (!options.score_name.empty() && !options.score_function) {
    throw std::invalid_argument("Checkpoint: score_name '" + options.score_name +
                                "' needs a score_function");
  }
  std::string pattern =
      options.filename_pattern.empty() ? default_pattern(options) : options.filename_pattern;
  expand_pattern(pattern, {});  // checks the fields
  if (to_save.size() > 1 && pattern.find("{name}") == std::string::npos) {
    throw std::invalid_argument("Checkpoint: filename_pattern '" + pattern +
                                "' has no {name}, so the " + std::to_string(to_save.size()) +
                                " objects would share one file");
  }
  prepare_directory(options.dirname, exts, options);
  shared_->to_save = std::move(to_save);
  shared_->options = std::move(options);
  shared_->pattern = std::move(pattern);
}

void Checkpoint::Shared::write(const Item& item) const {
  std::vector<std::pair<fs::path, fs::path>> moves;  // (temporary, final), in to_save order
  auto discard = [&moves] {
    for (const auto& [temp, file] : moves) remove_quietly(temp);
  };
  for (const auto& [name, saver] : to_save) {
    const fs::path& file = item.files.at(name);
    fs::path temp = file;
    temp += ".tmp";
    moves.emplace_back(temp, file);
    try {
      remove_quietly(temp);  // left over by a crash
      saver.save(temp);
    } catch (...) {
      discard();
      std::throw_with_nested(std::runtime_error("Checkpoint: saving '" + name + "' to '" +
                                                file.string() + "' failed: " + current_message()));
    }
    std::error_code error;
    if (!fs::is_regular_file(temp, error)) {
      discard();
      throw std::runtime_error("Checkpoint: the save function of '" + name +
                               "' wrote no file at '" + temp.string() + "'");
    }
  }
  for (size_t i = 0; i < moves.size(); ++i) {
    std::error_code error;
    fs::rename(moves[i].first, moves[i].second, error);
    if (!error) continue;
    // Undo: the files already renamed, and the temporaries still there.
    for (size_t j = 0; j < moves.size(); ++j)
      remove_quietly(j < i ? moves[j].second : moves[j].first);
    throw std::runtime_error("Checkpoint: cannot rename '" + moves[i].first.string() + "' to '" +
                             moves[i].second.string() + "': " + error.message());
  }
}

void Checkpoint::operator()(EngineBase& engine) {
  Shared& s = *shared_;
  const CheckpointOptions& o = s.options;
  const int64_t step =
      o.global_step_transform ? o.global_step_transform(engine) : engine.state().iteration;
  NameFields fields{.filename_prefix = o.filename_prefix,
                    .global_step = std::to_string(step),
                    .score_name = o.score_name};
  double priority = static_cast<double>(step);
  if (o.score_function) {
    priority = o.score_function(engine);
    if (std::isnan(priority)) {
      throw std::invalid_argument("Checkpoint: the score function returned NaN" +
                                  (o.score_name.empty() ? "" : " for '" + o.score_name + "'"));
    }
    fields.score = format_score(priority);
  }
  const bool keep_all = o.n_saved == 0;
  if (!keep_all && static_cast<int64_t>(s.saved.size()) >= o.n_saved) {
    const double worst = s.saved.front().priority;
    if (!(priority > worst || (o.greater_or_equal && priority == worst))) return;
  }

  Item item{priority, {}};
  for (const auto& [name, saver] : s.to_save) {
    fields.name = name;
    fields.ext = saver.ext;
    item.files[name] = o.dirname / expand_pattern(s.pattern, fields);
  }
  if (std::any_of(s.saved.begin(), s.saved.end(),
                  [&item](const Item& kept) { return kept.files == item.files; })) {
    return;
  }
  s.write(item);

  s.saved.push_back(std::move(item));
  std::stable_sort(s.saved.begin(), s.saved.end(),
                   [](const Item& a, const Item& b) { return a.priority < b.priority; });
  if (!keep_all && static_cast<int64_t>(s.saved.size()) > o.n_saved) {
    const Item evicted = std::move(s.saved.front());
    s.saved.erase(s.saved.begin());
    for (const auto& [name, file] : evicted.files) remove_quietly(file);
  }
}

const std::vector<Checkpoint::Item>& Checkpoint::saved() const { return shared_->saved; }

std::optional<Checkpoint::Item> Checkpoint::last_checkpoint() const {
  if (shared_->saved.empty()) return std::nullopt;
  return shared_->saved.back();
}

void Checkpoint::reset() { shared_->saved.clear(); }

void Checkpoint::load_objects(const std::map<std::string, LoadFunction>& to_load,
                              const Item& checkpoint) {
  for (const auto& [name, load] : to_load) {
    auto found = checkpoint.files.find(name);
    if (found == checkpoint.files.end()) {
      std::string held;
      for (const auto& [other, file] : checkpoint.files) held += (held.empty() ? "" : ", ") + other;
      throw std::invalid_argument("Checkpoint::load_objects: the checkpoint has no object '" +
                                  name + "' (it has " + held + ")");
    }
    load(found->second);
  }
}

std::function<int64_t(EngineBase&)> global_step_from_engine(const EngineBase& engine) {
  return [&engine](EngineBase&) { return engine.state().epoch; };
}

void save_engine_state(const EngineBase& engine, const fs::path& path) {
  std::string text = "{";
  for (const auto& [key, value] : engine.state_dict()) {
    if (text.size() > 1) text += ", ";
    text += "\"" + key + "\": " + std::to_string(value);
  }
  text += "}\n";
  fs::path temp = path;
  temp += ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      remove_quietly(temp);
      throw std::runtime_error("save_engine_state: cannot write '" + temp.string() + "'");
    }
  }
  std::error_code error;
  fs::rename(temp, path, error);
  if (error) {
    remove_quietly(temp);
    throw std::runtime_error("save_engine_state: cannot rename '" + temp.string() + "' to '" +
                             path.string() + "': " + error.message());
  }
}

std::map<std::string, int64_t> load_engine_state(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("load_engine_state: cannot read '" + path.string() + "'");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  auto fail = [&](const std::string& expected) {
    throw std::runtime_error("load_engine_state: '" + path.string() +
                             "' is not a flat JSON object of integers: expected " + expected +
                             " at offset " + std::to_string(pos));
  };
  auto skip_space = [&] {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\t' || text[pos] == '\r')) {
      ++pos;
    }
  };
  auto expect = [&](char c) {
    skip_space();
    if (pos >= text.size() || text[pos] != c) fail(std::string("'") + c + "'");
    ++pos;
  };
  std::map<std::string, int64_t> dict;
  expect('{');
  skip_space();
  if (pos < text.size() && text[pos] == '}') {
    ++pos;
  } else {
    while (true) {
      expect('"');
      const size_t close = text.find('"', pos);
      if (close == std::string::npos || text.find('\\', pos) < close) fail("a plain key");
      std::string key = text.substr(pos, close - pos);
      pos = close + 1;
      expect(':');
      skip_space();
      int64_t value = 0;
      auto [end, error] = std::from_chars(text.data() + pos, text.data() + text.size(), value);
      if (error != std::errc()) fail("an integer for '" + key + "'");
      pos = static_cast<size_t>(end - text.data());
      if (!dict.emplace(std::move(key), value).second) fail("no repeated key");
      skip_space();
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      expect('}');
      break;
    }
  }
  skip_space();
  if (pos != text.size()) fail("the end of the file");
  return dict;
}

void load_engine_state(EngineBase& engine, const fs::path& path) {
  engine.load_state_dict(load_engine_state(path));
}

Saver engine_state_saver(const EngineBase& engine) {
  return Saver([&engine](const fs::path& path) { save_engine_state(engine, path); }, "json");
}

LoadFunction engine_state_loader(EngineBase& engine) {
  return [&engine](const fs::path& path) { load_engine_state(engine, path); };
}

}  // namespace ignis::engine
