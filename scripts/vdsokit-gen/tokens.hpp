// A C++ tokenizer just deep enough to read declarations: it drops comments and preprocessor
// lines, keeps string literals whole, and records each token's line for `file:line` messages.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace vdsokit_gen {

struct source_error {
    std::string file;
    int line;
    std::string message;

    std::string text() const { return file + ":" + std::to_string(line) + ": error: " + message; }
};

enum class token_kind { identifier, number, string, character, punctuation };

struct token {
    token_kind kind;
    std::string text;
    int line;

    bool is(std::string_view value) const { return text == value; }
    bool is_identifier() const { return kind == token_kind::identifier; }
};

struct directive {
    std::string text;  // from the '#', comments removed, continuations joined
    int line;
};

struct tokenized_file {
    std::vector<token> tokens;
    std::vector<directive> directives;
    std::vector<source_error> errors;
};

// Bytes of UTF-8 sequences count as identifier characters: C++ allows Unicode identifiers.
inline bool identifier_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
inline bool identifier_char(char c) { return identifier_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

inline tokenized_file tokenize(const std::string& file_name, std::string_view text) {
    tokenized_file out;
    int line = 1;
    bool at_line_start = true;
    std::size_t i = 0;
    auto fail = [&](int at_line, std::string message) {
        out.errors.push_back({file_name, at_line, std::move(message)});
    };
    // Skips the /* comment at i, counting its lines; false if it never ends.
    auto skip_block_comment = [&] {
        const auto end = text.find("*/", i + 2);
        if (end == std::string_view::npos) {
            fail(line, "unterminated /* comment");
            return false;
        }
        for (std::size_t k = i; k < end; ++k) line += text[k] == '\n';
        i = end + 2;
        return true;
    };
    while (i < text.size()) {
        const char c = text[i];
        if (c == '\n' || (c == '\r' && text.substr(i, 2) == "\r\n")) {
            if (c == '\r') ++i;
            ++line;
            ++i;
            at_line_start = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            ++i;
            continue;
        }
        if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
            while (i < text.size() && text[i] != '\n') ++i;
            continue;
        }
        if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
            if (!skip_block_comment()) return out;
            continue;
        }
        if (c == '#' && at_line_start) {  // a directive: to the end of the line, with continuations
            const int start = line;
            std::string directive;
            while (i < text.size() && text[i] != '\n') {
                if (text[i] == '\\' && (text.substr(i + 1, 1) == "\n" || text.substr(i + 1, 2) == "\r\n")) {
                    i += text[i + 1] == '\r' ? 3 : 2;
                    ++line;
                    continue;
                }
                if (text.substr(i, 2) == "//") {
                    while (i < text.size() && text[i] != '\n') ++i;
                    break;
                }
                if (text.substr(i, 2) == "/*") {  // may run over several lines
                    if (!skip_block_comment()) return out;
                    directive += ' ';
                    continue;
                }
                directive += text[i++];
            }
            out.directives.push_back({directive, start});
            continue;
        }
        at_line_start = false;
        if (c == '"' || c == '\'') {
            const int start = line;
            std::size_t k = i + 1;
            while (k < text.size() && text[k] != c && text[k] != '\n') k += text[k] == '\\' ? 2 : 1;
            if (k >= text.size() || text[k] != c) {
                fail(start, c == '"' ? "unterminated string literal" : "unterminated character literal");
                return out;
            }
            out.tokens.push_back({c == '"' ? token_kind::string : token_kind::character,
                                  std::string(text.substr(i, k + 1 - i)), line});
            i = k + 1;
            continue;
        }
        if (identifier_start(c)) {
            std::size_t k = i;
            while (k < text.size() && identifier_char(text[k])) ++k;
            const std::string_view prefix = text.substr(i, k - i);
            if (k < text.size() && text[k] == '"' &&
                (prefix == "R" || prefix == "LR" || prefix == "uR" || prefix == "UR" || prefix == "u8R")) {
                // A raw string: R"delimiter( ... )delimiter", over any number of lines.
                const int start = line;
                const auto open = text.find('(', k);
                const std::string close = ")" + std::string(text.substr(k + 1, open == std::string_view::npos ? 0 : open - k - 1)) + "\"";
                const auto end = open == std::string_view::npos ? open : text.find(close, open);
                if (end == std::string_view::npos) {
                    fail(start, "unterminated raw string literal");
                    return out;
                }
                for (std::size_t n = i; n < end; ++n) line += text[n] == '\n';
                out.tokens.push_back({token_kind::string, std::string(text.substr(i, end + close.size() - i)), start});
                i = end + close.size();
                continue;
            }
            out.tokens.push_back({token_kind::identifier, std::string(text.substr(i, k - i)), line});
            i = k;
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            std::size_t k = i;
            while (k < text.size() && (identifier_char(text[k]) || text[k] == '.' || text[k] == '\'')) ++k;
            out.tokens.push_back({token_kind::number, std::string(text.substr(i, k - i)), line});
            i = k;
            continue;
        }
        if (c == ':' && i + 1 < text.size() && text[i + 1] == ':') {
            out.tokens.push_back({token_kind::punctuation, "::", line});
            i += 2;
            continue;
        }
        out.tokens.push_back({token_kind::punctuation, std::string(1, c), line});
        ++i;
    }
    return out;
}

// Index one past the bracket that closes the one at `open` ( ( [ { ), or tokens.size().
inline std::size_t skip_balanced(const std::vector<token>& tokens, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i < tokens.size(); ++i) {
        const auto& t = tokens[i].text;
        if (tokens[i].kind != token_kind::punctuation) continue;
        if (t == "(" || t == "[" || t == "{") ++depth;
        if (t == ")" || t == "]" || t == "}") {
            if (--depth == 0) return i + 1;
        }
    }
    return tokens.size();
}

}  // namespace vdsokit_gen
