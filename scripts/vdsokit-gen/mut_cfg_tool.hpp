// `vdsokit-gen mut-cfg`: finds the VDSOKIT_MUT_CFG declarations in a vDSO's headers, takes this
// build's overrides from the environment (or `--set NAME=VALUE`, which wins), checks each against
// its declared type, and renders the overrides header that <vdsokit/mut_cfg.hpp> consults.
//
// The tool checks what it can read reliably (integer syntax and range for the standard integer
// types, bool spellings, enumerator names of an enum declared once in the scanned headers) so that
// most mistakes are reported as `file:line: MUT_CFG NAME: "value" ...`. It never converts an
// enumerator name into a number itself: the override names the enumerator and the compiler
// resolves it, so a conditional enumerator or a second enum of the same name cannot shift values.
#pragma once

#include <algorithm>
#include <cctype>
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
    std::vector<std::string> enumerators;
};

struct mut_cfg_scan {
    std::vector<mut_cfg_constant> constants;
    std::multimap<std::string, enum_definition> enums;
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

inline void scan_mut_cfg_file(const std::string& file_name, std::string_view text, mut_cfg_scan& scan) {
    tokenized_file file = tokenize(file_name, text);
    for (auto& error : file.errors) scan.errors.push_back(error);
    const auto& tokens = file.tokens;
    std::vector<bool> scopes;  // true: a namespace; false: a class, enum or function body
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i].is("{")) {
            bool name_space = false;
            for (std::size_t k = i; k-- > 0 && (tokens[k].is_identifier() || tokens[k].is("::"));)
                name_space |= tokens[k].is("namespace");
            scopes.push_back(name_space);
        } else if (tokens[i].is("}") && !scopes.empty()) {
            scopes.pop_back();
        }
        if (tokens[i].is("enum")) {
            std::size_t k = i + 1;
            if (k < tokens.size() && (tokens[k].is("class") || tokens[k].is("struct"))) ++k;
            if (k >= tokens.size() || !tokens[k].is_identifier()) continue;
            enum_definition definition{tokens[k].text, {}};
            while (k < tokens.size() && !tokens[k].is("{") && !tokens[k].is(";")) ++k;
            if (k >= tokens.size() || !tokens[k].is("{")) continue;
            const std::size_t close = skip_balanced(tokens, k) - 1;
            for (std::size_t e = k + 1; e < close;) {
                if (tokens[e].is_identifier()) definition.enumerators.push_back(tokens[e].text);
                while (e < close && !tokens[e].is(",")) e = tokens[e].is("(") ? skip_balanced(tokens, e) : e + 1;
                ++e;
            }
            scan.enums.emplace(definition.name, definition);
            continue;
        }
        if (!tokens[i].is("VDSOKIT_MUT_CFG") || i + 1 >= tokens.size() || !tokens[i + 1].is("(")) continue;
        if (!scopes.empty()) {
            scan.errors.push_back({file_name, tokens[i].line,
                                   "VDSOKIT_MUT_CFG must be used at global scope: the overrides header "
                                   "declares each constant's override in ::vdsokit_mut_cfg"});
            continue;
        }
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
    if (type.rfind("::", 0) == 0) type = type.substr(2);
    if (type.rfind("std::", 0) == 0) type = type.substr(5);
    static const std::map<std::string, integer_type> types = {
        {"int8_t", {true, 8}}, {"int16_t", {true, 16}}, {"int32_t", {true, 32}}, {"int64_t", {true, 64}},
        {"uint8_t", {false, 8}}, {"uint16_t", {false, 16}}, {"uint32_t", {false, 32}}, {"uint64_t", {false, 64}},
        {"size_t", {false, 64}}, {"uintptr_t", {false, 64}}, {"intptr_t", {true, 64}}, {"ptrdiff_t", {true, 64}},
        {"char", {true, 8}}, {"signed char", {true, 8}}, {"unsigned char", {false, 8}},
        {"short", {true, 16}}, {"short int", {true, 16}}, {"unsigned short", {false, 16}},
        {"unsigned short int", {false, 16}}, {"int", {true, 32}}, {"signed", {true, 32}},
        {"signed int", {true, 32}}, {"unsigned", {false, 32}}, {"unsigned int", {false, 32}},
        {"long", {true, 64}}, {"long int", {true, 64}}, {"unsigned long", {false, 64}},
        {"unsigned long int", {false, 64}}, {"long long", {true, 64}}, {"long long int", {true, 64}},
        {"unsigned long long", {false, 64}}, {"unsigned long long int", {false, 64}}};
    auto it = types.find(type);
    if (it == types.end()) return std::nullopt;
    return it->second;
}

struct parsed_integer {
    bool negative;
    std::uint64_t magnitude;
};

// C++ integer literal syntax without suffixes: decimal, 0x hex, 0b binary, 0 octal, optional sign,
// ' separators between digits only.
inline std::optional<parsed_integer> parse_integer(std::string_view text) {
    parsed_integer out{false, 0};
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        out.negative = text[0] == '-';
        text.remove_prefix(1);
    }
    unsigned base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) base = 16, text.remove_prefix(2);
    else if (text.size() > 2 && text[0] == '0' && (text[1] == 'b' || text[1] == 'B')) base = 2, text.remove_prefix(2);
    else if (text.size() > 1 && text[0] == '0') base = 8, text.remove_prefix(1);
    if (text.empty() || text.front() == '\'' || text.back() == '\'' || text.find("''") != std::string_view::npos)
        return std::nullopt;
    for (char c : text) {
        if (c == '\'') continue;
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

inline bool is_identifier_text(std::string_view text) {
    if (text.empty() || !identifier_start(text[0])) return false;
    for (char c : text)
        if (!identifier_char(c)) return false;
    return true;
}

// An override as the generated header spells it.
struct mut_cfg_override {
    std::string source;  // "the environment" or "the Meson option mut_cfg"
    std::string text;    // as given
    bool is_enumerator = false;
    parsed_integer value{};   // integers and bool
    std::string enumerator;   // enums: the enumerator's name
};

// Checks `override_value.text` against the constant's declared type and fills in the parsed form;
// returns what is wrong, if anything.
inline std::optional<std::string> check_override(const mut_cfg_constant& constant, const mut_cfg_scan& scan,
                                                 mut_cfg_override& override_value) {
    std::string text = override_value.text;
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.erase(0, 1);
    if (text.empty()) return std::string("is empty: unset the variable to use the default");

    if (constant.type == "bool") {
        std::string lower;
        for (char c : text) lower += char(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return override_value.value = {false, 1}, std::nullopt;
        if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return override_value.value = {false, 0}, std::nullopt;
        return "is not a valid bool: expected true, false, 1, 0, yes, no, on or off";
    }

    // An enum declared exactly once in the scanned headers can be checked here.
    const std::string unqualified_type = constant.type.substr(constant.type.rfind(':') == std::string::npos ? 0 : constant.type.rfind(':') + 1);
    const enum_definition* known_enum = scan.enums.count(unqualified_type) == 1 ? &scan.enums.find(unqualified_type)->second : nullptr;
    std::string enumerator_list;
    if (known_enum)
        for (const auto& name : known_enum->enumerators) enumerator_list += (enumerator_list.empty() ? "" : ", ") + name;

    const auto integer = known_integer_type(constant.type);
    std::string range;
    if (integer) {
        const std::uint64_t max_positive = integer->bits == 64 ? (integer->is_signed ? uint64_t(INT64_MAX) : UINT64_MAX)
                                                               : (integer->is_signed ? (1ull << (integer->bits - 1)) - 1
                                                                                     : (1ull << integer->bits) - 1);
        const std::uint64_t max_negative = integer->is_signed ? max_positive + 1 : 0;
        range = "[" + (integer->is_signed ? "-" + std::to_string(max_negative) : std::string("0")) + ", " +
                std::to_string(max_positive) + "]";
        if (auto parsed = parse_integer(text)) {
            if (parsed->negative ? parsed->magnitude > max_negative : parsed->magnitude > max_positive)
                return "is out of range for " + constant.type + ": expected an integer in " + range;
            override_value.value = *parsed;
            return std::nullopt;
        }
        return "is not a valid " + constant.type + ": expected an integer in " + range;
    }
    if (auto parsed = parse_integer(text)) {
        if (known_enum) return "is a number, but " + constant.type + " is an enum: expected one of " + enumerator_list;
        override_value.value = *parsed;  // an integer type we do not know by name: the compiler checks the range
        return std::nullopt;
    }
    const std::string name = text.substr(text.rfind(':') == std::string::npos ? 0 : text.rfind(':') + 1);
    if (!is_identifier_text(name)) return "is neither an integer nor an enumerator name";
    if (known_enum && std::find(known_enum->enumerators.begin(), known_enum->enumerators.end(), name) ==
                          known_enum->enumerators.end())
        return "is not an enumerator of " + constant.type + ": expected one of " + enumerator_list;
    override_value.is_enumerator = true;
    override_value.enumerator = name;
    return std::nullopt;
}

}  // namespace vdsokit_gen
