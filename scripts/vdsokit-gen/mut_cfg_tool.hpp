// `vdsokit-gen mut-cfg`: finds the VDSOKIT_MUT_CFG declarations in a vDSO's headers, takes this
// build's overrides from the environment (or `--set NAME=VALUE`, which wins), checks each against
// its declared type, and renders the overrides header that <vdsokit/mut_cfg.hpp> consults.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tokens.hpp"

namespace vdsokit_gen {

struct mut_cfg_constant {
    std::string file;
    int line;
    std::string type;           // as written, tokens joined
    std::string name;
    std::string default_value;  // as written
};

struct enum_definition {
    std::string name;  // unqualified
    std::vector<std::pair<std::string, std::int64_t>> enumerators;
    bool values_known = true;
};

struct mut_cfg_scan {
    std::vector<mut_cfg_constant> constants;
    std::map<std::string, enum_definition> enums;
    std::vector<source_error> errors;
};

inline std::string join_tokens(const std::vector<token>& tokens, std::size_t begin, std::size_t end) {
    std::string out;
    for (std::size_t i = begin; i < end; ++i) {
        const bool glue = tokens[i].is("::") || (i > begin && tokens[i - 1].is("::")) ||
                          tokens[i].is(",") || tokens[i].is(">") || (i > begin && tokens[i - 1].is("<")) ||
                          tokens[i].is("<");
        if (!out.empty() && !glue) out += ' ';
        out += tokens[i].text;
    }
    return out;
}

inline std::optional<std::int64_t> parse_enum_literal(const std::vector<token>& tokens, std::size_t begin,
                                                      std::size_t end);

inline void scan_mut_cfg_file(const std::string& file_name, std::string_view text, mut_cfg_scan& scan) {
    tokenized_file file = tokenize(file_name, text);
    for (auto& error : file.errors) scan.errors.push_back(error);
    const auto& tokens = file.tokens;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i].is("enum")) {
            std::size_t k = i + 1;
            if (k < tokens.size() && (tokens[k].is("class") || tokens[k].is("struct"))) ++k;
            if (k >= tokens.size() || !tokens[k].is_identifier()) continue;
            enum_definition definition{tokens[k].text, {}, true};
            while (k < tokens.size() && !tokens[k].is("{") && !tokens[k].is(";")) ++k;
            if (k >= tokens.size() || !tokens[k].is("{")) continue;
            const std::size_t close = skip_balanced(tokens, k) - 1;
            std::int64_t next = 0;
            for (std::size_t e = k + 1; e < close;) {
                std::size_t stop = e;
                while (stop < close && !tokens[stop].is(",")) stop = tokens[stop].is("(") ? skip_balanced(tokens, stop) : stop + 1;
                if (tokens[e].is_identifier()) {
                    if (e + 1 < stop && tokens[e + 1].is("=")) {
                        if (auto value = parse_enum_literal(tokens, e + 2, stop)) next = *value;
                        else definition.values_known = false;
                    }
                    definition.enumerators.push_back({tokens[e].text, next++});
                }
                e = stop + 1;
            }
            scan.enums[definition.name] = definition;
            continue;
        }
        if (!tokens[i].is("VDSOKIT_MUT_CFG") || i + 1 >= tokens.size() || !tokens[i + 1].is("(")) continue;
        const std::size_t close = skip_balanced(tokens, i + 1) - 1;
        std::vector<std::size_t> commas;
        for (std::size_t k = i + 2; k < close;) {
            if (tokens[k].is("(") || tokens[k].is("[") || tokens[k].is("{")) {
                k = skip_balanced(tokens, k);
                continue;
            }
            if (tokens[k].is("<")) {  // template arguments in the type: keep their commas
                int depth = 0;
                for (; k < close; ++k) {
                    depth += tokens[k].is("<") - tokens[k].is(">");
                    if (depth == 0) break;
                }
            }
            if (tokens[k].is(",")) commas.push_back(k);
            ++k;
        }
        if (commas.size() != 2 || commas[1] != commas[0] + 2 || !tokens[commas[0] + 1].is_identifier()) {
            scan.errors.push_back({file_name, tokens[i].line,
                                   "VDSOKIT_MUT_CFG takes (type, NAME, default value)"});
            continue;
        }
        scan.constants.push_back({file_name, tokens[i].line, join_tokens(tokens, i + 2, commas[0]),
                                  tokens[commas[0] + 1].text, join_tokens(tokens, commas[1] + 1, close)});
        i = close;
    }
}

struct integer_type {
    bool is_signed;
    int bits;
};

inline std::optional<integer_type> known_integer_type(std::string type) {
    if (type.rfind("std::", 0) == 0) type = type.substr(5);
    static const std::map<std::string, integer_type> types = {
        {"int8_t", {true, 8}}, {"int16_t", {true, 16}}, {"int32_t", {true, 32}}, {"int64_t", {true, 64}},
        {"uint8_t", {false, 8}}, {"uint16_t", {false, 16}}, {"uint32_t", {false, 32}}, {"uint64_t", {false, 64}},
        {"size_t", {false, 64}}, {"uintptr_t", {false, 64}}, {"intptr_t", {true, 64}}, {"ptrdiff_t", {true, 64}},
        {"char", {true, 8}}, {"signed char", {true, 8}}, {"unsigned char", {false, 8}},
        {"short", {true, 16}}, {"unsigned short", {false, 16}}, {"int", {true, 32}},
        {"unsigned", {false, 32}}, {"unsigned int", {false, 32}}, {"long", {true, 64}},
        {"unsigned long", {false, 64}}, {"long long", {true, 64}}, {"unsigned long long", {false, 64}}};
    auto it = types.find(type);
    if (it == types.end()) return std::nullopt;
    return it->second;
}

struct parsed_integer {
    bool negative;
    std::uint64_t magnitude;
};

// Decimal, 0x hex or 0b binary, optional sign; digit separators ' and _ allowed.
inline std::optional<parsed_integer> parse_integer(std::string_view text) {
    parsed_integer out{false, 0};
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        out.negative = text[0] == '-';
        text.remove_prefix(1);
    }
    unsigned base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) base = 16, text.remove_prefix(2);
    else if (text.size() > 2 && text[0] == '0' && (text[1] == 'b' || text[1] == 'B')) base = 2, text.remove_prefix(2);
    if (text.empty()) return std::nullopt;
    for (char c : text) {
        if (c == '\'' || c == '_') continue;
        unsigned digit;
        if (c >= '0' && c <= '9') digit = unsigned(c - '0');
        else if (c >= 'a' && c <= 'f') digit = unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') digit = unsigned(c - 'A' + 10);
        else return std::nullopt;
        if (digit >= base) return std::nullopt;
        if (out.magnitude > (UINT64_MAX - digit) / base) return std::nullopt;
        out.magnitude = out.magnitude * base + digit;
    }
    if (out.negative && out.magnitude == 0) out.negative = false;
    return out;
}

inline std::optional<std::int64_t> parse_enum_literal(const std::vector<token>& tokens, std::size_t begin,
                                                      std::size_t end) {
    std::string text;
    for (std::size_t i = begin; i < end; ++i) text += tokens[i].text;
    while (!text.empty() && (text.back() == 'u' || text.back() == 'U' || text.back() == 'l' || text.back() == 'L'))
        text.pop_back();
    auto value = parse_integer(text);
    if (!value || value->magnitude > std::uint64_t(INT64_MAX)) return std::nullopt;
    return value->negative ? -std::int64_t(value->magnitude) : std::int64_t(value->magnitude);
}

struct mut_cfg_override {
    std::string source;  // "environment" or "Meson option"
    std::string text;
    parsed_integer value;
};

// Checks `text` against the constant's declared type; on success fills `value`.
inline std::optional<std::string> check_override(const mut_cfg_constant& constant, const mut_cfg_scan& scan,
                                                 const std::string& text, parsed_integer& value) {
    if (constant.type == "bool") {
        std::string lower;
        for (char c : text) lower += char(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return value = {false, 1}, std::nullopt;
        if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return value = {false, 0}, std::nullopt;
        return "is not a valid bool: expected true, false, 1, 0, yes, no, on or off";
    }
    if (auto integer = known_integer_type(constant.type)) {
        const std::uint64_t max_positive = integer->bits == 64 ? (integer->is_signed ? uint64_t(INT64_MAX) : UINT64_MAX)
                                                               : (integer->is_signed ? (1ull << (integer->bits - 1)) - 1
                                                                                     : (1ull << integer->bits) - 1);
        const std::uint64_t max_negative = integer->is_signed ? max_positive + 1 : 0;
        const std::string range = "[" + (integer->is_signed ? "-" + std::to_string(max_negative) : std::string("0")) +
                                  ", " + std::to_string(max_positive) + "]";
        auto parsed = parse_integer(text);
        if (!parsed) return "is not a valid " + constant.type + ": expected an integer in " + range;
        if (parsed->negative ? parsed->magnitude > max_negative : parsed->magnitude > max_positive)
            return "is out of range for " + constant.type + ": expected an integer in " + range;
        value = *parsed;
        return std::nullopt;
    }
    const std::string enum_name = constant.type.substr(constant.type.rfind(':') == std::string::npos ? 0 : constant.type.rfind(':') + 1);
    auto it = scan.enums.find(enum_name);
    if (it == scan.enums.end())
        return "cannot be checked: MUT_CFG supports integers, bool and enums declared in the scanned "
               "headers, and " + constant.type + " is none of them";
    std::string wanted = text.substr(text.rfind(':') == std::string::npos ? 0 : text.rfind(':') + 1);
    std::string names;
    for (const auto& [name, number] : it->second.enumerators) {
        if (name == wanted) {
            if (!it->second.values_known)
                return "cannot be checked: the enumerators of " + constant.type + " have values vdsokit-gen cannot evaluate";
            value = {number < 0, number < 0 ? std::uint64_t(-(number + 1)) + 1 : std::uint64_t(number)};
            return std::nullopt;
        }
        names += (names.empty() ? "" : ", ") + name;
    }
    return "is not an enumerator of " + constant.type + ": expected one of " + names;
}

}  // namespace vdsokit_gen
