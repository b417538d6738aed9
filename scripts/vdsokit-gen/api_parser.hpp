// Reads a vDSO's api.hpp and lists the functions it declares with C linkage.
//
// Only names are taken from the text: the generated dispatch table types each member as
// `decltype(&::name)`, so the compiler, not this parser, owns the signatures and they cannot drift.
// The parser therefore only has to find declarations and their names reliably, through comments,
// multi-line declarations, attributes, noexcept, function-pointer parameters and functions that
// return function pointers. What it cannot classify is an error naming file:line, never a guess.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "tokens.hpp"

namespace vdsokit_gen {

struct api_function {
    std::string name;       // the C symbol
    std::string qualified;  // how C++ names it from the global namespace (::ns::name)
    int line;
};

struct api_declarations {
    std::vector<api_function> functions;
    std::vector<source_error> errors;
};

namespace detail {

inline bool is_attribute_keyword(const std::string& word) {
    static const std::set<std::string> words = {
        "__attribute__", "__attribute", "alignas", "__declspec", "noexcept", "throw", "decltype",
        "__asm__", "asm", "__asm", "sizeof", "alignof", "__typeof__", "typeof", "static_assert",
        "requires", "__extension__", "_Alignas"};
    return words.contains(word);
}

inline bool is_type_keyword(const std::string& word) {
    static const std::set<std::string> words = {
        "void", "bool", "char", "char8_t", "char16_t", "char32_t", "wchar_t", "short", "int", "long",
        "signed", "unsigned", "float", "double", "auto", "const", "volatile", "struct", "union",
        "enum", "class", "typename", "extern", "static", "inline", "constexpr", "register"};
    return words.contains(word);
}

// The declared name: the first identifier directly followed by '(' that is not a keyword or an
// attribute. `int f(int (*cb)(int))` -> f; `void (*f(int))(int)` -> f; `int (*p)(int)` -> none.
inline const token* declared_function_name(const std::vector<token>& declaration) {
    for (std::size_t i = 0; i < declaration.size(); ++i) {
        const token& t = declaration[i];
        if (t.is("[") && i + 1 < declaration.size() && declaration[i + 1].is("[")) {
            i = skip_balanced(declaration, i) - 1;
            continue;
        }
        if (!t.is_identifier()) continue;
        const bool call = i + 1 < declaration.size() && declaration[i + 1].is("(");
        if (is_attribute_keyword(t.text)) {
            if (call) i = skip_balanced(declaration, i + 1) - 1;
            continue;
        }
        if (call && !is_type_keyword(t.text)) return &t;
    }
    return nullptr;
}

inline bool starts_with_any(const std::vector<token>& declaration, std::initializer_list<const char*> words) {
    for (const token& t : declaration) {
        if (t.is("[") || t.is("]")) continue;  // leading [[attributes]]
        for (const char* word : words)
            if (t.is(word)) return true;
        return false;
    }
    return false;
}

// The first identifier that is not an attribute: where the return type starts.
inline const token* first_word(const std::vector<token>& declaration) {
    for (std::size_t i = 0; i < declaration.size(); ++i) {
        if (declaration[i].is("[") && i + 1 < declaration.size() && declaration[i + 1].is("[")) {
            i = skip_balanced(declaration, i) - 1;
        } else if (declaration[i].is_identifier() && is_attribute_keyword(declaration[i].text) &&
                   i + 1 < declaration.size() && declaration[i + 1].is("(")) {
            i = skip_balanced(declaration, i + 1) - 1;
        } else if (declaration[i].is_identifier()) {
            return &declaration[i];
        }
    }
    return nullptr;
}

// True if one of `words` appears before the declared name (outside [[attributes]]).
inline bool has_specifier(const std::vector<token>& declaration, const token* name,
                          std::initializer_list<const char*> words) {
    for (std::size_t i = 0; i < declaration.size() && &declaration[i] != name; ++i) {
        if (declaration[i].is("[") && i + 1 < declaration.size() && declaration[i + 1].is("[")) {
            i = skip_balanced(declaration, i) - 1;
            continue;
        }
        for (const char* word : words)
            if (declaration[i].is(word)) return true;
    }
    return false;
}

// True if the declaration has a comma outside any brackets: several declarators in one.
inline bool declares_several(const std::vector<token>& declaration) {
    int depth = 0;
    for (const token& t : declaration) {
        if (t.is("(") || t.is("[") || t.is("{")) ++depth;
        if (t.is(")") || t.is("]") || t.is("}")) --depth;
        if (depth == 0 && t.is(",")) return true;
    }
    return false;
}

}  // namespace detail

inline api_declarations parse_api_header(const std::string& file_name, std::string_view text) {
    tokenized_file file = tokenize(file_name, text);
    api_declarations out;
    out.errors = std::move(file.errors);
    if (!out.errors.empty()) return out;
    const std::vector<token>& tokens = file.tokens;

    enum class scope_kind { name_space, c_linkage, other_linkage };
    struct scope {
        scope_kind kind;
        std::string name;
        int line;
    };
    std::vector<scope> scopes;
    std::set<std::string> seen;
    std::vector<std::pair<int, int>> c_blocks;  // first and last line of each extern "C" { }

    auto in_c_linkage = [&] {
        for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
            if (it->kind == scope_kind::c_linkage) return true;
            if (it->kind == scope_kind::other_linkage) return false;
        }
        return false;
    };
    auto qualification = [&] {
        std::string prefix;
        for (const scope& s : scopes)
            if (s.kind == scope_kind::name_space && !s.name.empty()) prefix += "::" + s.name;
        return prefix;
    };
    auto fail = [&](int line, std::string message) {
        out.errors.push_back({file_name, line, std::move(message)});
    };

    // Takes one declaration starting at i; returns the index after it.
    auto take_declaration = [&](std::size_t i, bool c_linkage) -> std::size_t {
        std::vector<token> declaration;
        bool has_body = false;
        bool has_type_body = false;
        const int first_line = tokens[i].line;
        while (i < tokens.size()) {
            const token& t = tokens[i];
            if (t.is(";")) {
                ++i;
                break;
            }
            if (t.is("(") || t.is("[")) {
                const std::size_t end = skip_balanced(tokens, i);
                declaration.insert(declaration.end(), tokens.begin() + i, tokens.begin() + end);
                i = end;
                continue;
            }
            if (t.is("{")) {
                const bool function_body = !declaration.empty() && detail::declared_function_name(declaration) &&
                                           !detail::starts_with_any(declaration, {"struct", "class", "union", "enum", "typedef", "using"});
                i = skip_balanced(tokens, i);
                if (function_body) {
                    has_body = true;
                    break;
                }
                has_type_body = true;
                continue;
            }
            if (t.is(")") || t.is("]") || t.is("}")) {
                fail(t.line, "unbalanced '" + t.text + "'");
                return tokens.size();
            }
            declaration.push_back(t);
            ++i;
        }
        if (!c_linkage || declaration.empty()) return i;
        if (detail::starts_with_any(declaration, {"typedef", "using", "static_assert", "template"})) return i;
        if (has_type_body && !detail::declared_function_name(declaration)) return i;
        if (detail::starts_with_any(declaration, {"struct", "class", "union", "enum"}) &&
            !detail::declared_function_name(declaration))
            return i;
        const token* name = detail::declared_function_name(declaration);
        if (name == nullptr) {
            std::string what;
            for (const token& t : declaration)
                if (t.is_identifier() && !detail::is_type_keyword(t.text)) what = t.text;
            fail(first_line, "'" + what + "' is not a function: an API header declares only functions "
                             "with C linkage (shared data belongs in vVAR)");
            return i;
        }
        if (name == detail::first_word(declaration)) {
            fail(name->line, "'" + name->text + "(...)' has no return type: a macro invocation? vdsokit-gen "
                             "does not expand macros, so write the declaration out");
            return i;
        }
        if (detail::declares_several(declaration)) {
            fail(first_line, "declares several names in one declaration: declare one function per "
                             "declaration (a template argument with a comma needs a typedef)");
            return i;
        }
        for (const token& t : declaration)
            if (t.is("__asm__") || t.is("asm") || t.is("__asm")) {
                fail(t.line, "'" + name->text + "' renames its symbol with an asm label: the dispatch table "
                             "needs the symbol to be the declared name");
                return i;
            }
        const bool not_exported = detail::has_specifier(declaration, name, {"static", "inline", "constexpr", "consteval"});
        if (has_body && !not_exported) {
            fail(name->line, "'" + name->text + "' has a body: api.hpp declares the API, the vDSO "
                             "sources define it");
            return i;
        }
        if (not_exported) return i;
        if (!seen.insert(name->text).second) return i;  // a redeclaration
        out.functions.push_back({name->text, qualification() + "::" + name->text, name->line});
        return i;
    };

    std::size_t i = 0;
    while (i < tokens.size() && out.errors.empty()) {
        const token& t = tokens[i];
        if (t.is(";")) {
            ++i;
        } else if (t.is("}")) {
            if (scopes.empty()) {
                fail(t.line, "unbalanced '}'");
                break;
            }
            if (scopes.back().kind == scope_kind::c_linkage) c_blocks.push_back({scopes.back().line, t.line});
            scopes.pop_back();
            ++i;
        } else if (t.is("namespace") || (t.is("inline") && i + 1 < tokens.size() && tokens[i + 1].is("namespace"))) {
            if (t.is("inline")) ++i;
            std::string name;
            std::size_t k = i + 1;
            for (; k < tokens.size() && (tokens[k].is_identifier() || tokens[k].is("::")); ++k)
                if (!tokens[k].is("inline")) name += tokens[k].text;
            if (k < tokens.size() && tokens[k].is("{")) {
                scopes.push_back({scope_kind::name_space, name, t.line});
                i = k + 1;
            } else {
                i = take_declaration(i, false);  // a namespace alias
            }
        } else if (t.is("extern") && i + 1 < tokens.size() && tokens[i + 1].kind == token_kind::string) {
            const bool c = tokens[i + 1].is("\"C\"");
            if (i + 2 < tokens.size() && tokens[i + 2].is("{")) {
                scopes.push_back({c ? scope_kind::c_linkage : scope_kind::other_linkage, {}, t.line});
                i += 3;
            } else {
                i = take_declaration(i + 2, c);
            }
        } else {
            i = take_declaration(i, in_c_linkage());
        }
    }
    if (out.errors.empty() && !scopes.empty())
        fail(scopes.back().line, "this '{' is never closed");
    // Declarations are read without preprocessing, so a conditional inside an API block would be
    // read on both branches. `#ifdef __cplusplus` around the block itself is fine.
    for (const directive& d : file.directives) {
        const bool conditional = d.text.rfind("#if", 0) == 0 || d.text.rfind("#elif", 0) == 0 ||
                                 d.text.rfind("# if", 0) == 0;
        if (!conditional || d.text.find("__cplusplus") != std::string::npos) continue;
        for (const auto& [first, last] : c_blocks)
            if (out.errors.empty() && d.line > first && d.line < last)
                fail(d.line, "a conditional inside extern \"C\": vdsokit-gen reads the API without "
                             "preprocessing, so declare every function unconditionally (the vDSO can "
                             "define a stub where a feature is off)");
    }
    if (out.errors.empty() && out.functions.empty())
        fail(1, "declares no extern \"C\" function: a vDSO API needs at least one");
    return out;
}

}  // namespace vdsokit_gen
