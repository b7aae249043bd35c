package flexmoe.experiments.data;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * LaTeX (the PARI/GP manual) and Sweave (R vignettes, LaTeX with R code chunks) to readable text, where markup would
 * otherwise dominate the bytes.
 *
 * <ul>
 *   <li>Sweave code chunks ({@code <<...>>=} to {@code @}), the preamble before {@code \begin{document}} and
 *       comments go.</li>
 *   <li>Math ({@code $..$}, {@code $$..$$}, {@code \[..\]}, {@code \(..\)}, equation-like environments) is kept
 *       verbatim: formulas are the content of the math and academic domains.</li>
 *   <li>Outside math, text-wrapping commands are unwrapped ({@code \kbd{x}}, {@code \emph{x}}, {@code \section{x}}
 *       give {@code x}); references, index entries, definitions and layout commands are dropped with their arguments;
 *       other bare commands are dropped, except all-capital ones like {@code \R} or {@code \GP}, which are nearly
 *       always a product name and become their name.</li>
 *   <li>Code environments of vignettes ({@code Schunk}, {@code Sinput}, {@code Soutput}, {@code Code}, ...) go;
 *       {@code verbatim} is kept as is.</li>
 * </ul>
 * Macros are not expanded: this is a cleaner for training text, not a TeX engine.
 */
final class TexCleaner {

    private static final Set<String> DROP_WITH_ARGUMENTS = Set.of(
            "label", "ref", "eqref", "pageref", "autoref", "cref", "Cref", "cite", "citep", "citet", "citealp", "citealt",
            "citeauthor", "citeyear", "nocite", "bibitem", "index", "sidx", "varsidx", "kbdsidx", "bibliography",
            "bibliographystyle", "includegraphics", "usepackage", "documentclass", "input", "include", "SweaveOpts",
            "Sexpr", "setkeys", "vspace", "hspace", "vskip", "hskip", "setlength", "addtolength", "setcounter",
            "url", "hypersetup", "definecolor", "color", "pagestyle", "thispagestyle", "graphicspath", "lstset",
            "fvset", "DefineVerbatimEnvironment", "VignetteIndexEntry", "VignetteEngine", "VignetteDepends",
            "VignetteKeyword", "VignettePackage", "VignetteEncoding", "newtheorem", "numberwithin", "raggedbottom",
            "addcontentsline", "bibpunct", "setcitestyle", "newpage", "clearpage", "pagebreak", "linebreak");
    private static final Set<String> DEFINITIONS = Set.of(
            "def", "gdef", "edef", "xdef", "let", "newcommand", "renewcommand", "providecommand", "newenvironment",
            "renewenvironment", "DeclareMathOperator", "newlength", "newcounter");
    private static final Set<String> MATH_ENVIRONMENTS = Set.of(
            "equation", "equation*", "align", "align*", "alignat", "alignat*", "eqnarray", "eqnarray*", "displaymath",
            "math", "multline", "multline*", "gather", "gather*", "flalign", "flalign*");
    private static final Set<String> DROPPED_ENVIRONMENTS = Set.of(
            "Schunk", "Sinput", "Soutput", "Scode", "Code", "CodeChunk", "CodeInput", "CodeOutput", "knitrout", "kframe",
            "comment", "thebibliography", "titlepage");
    private static final Set<String> VERBATIM_ENVIRONMENTS = Set.of("verbatim", "verbatim*", "Verbatim", "lstlisting");
    private static final Set<String> ENVIRONMENTS_WITH_ARGUMENTS = Set.of(
            "tabular", "tabular*", "tabularx", "array", "minipage", "multicols", "longtable");

    private static final Pattern SWEAVE_CHUNK = Pattern.compile("(?ms)^[ \\t]*<<[^\\n]*>>=[ \\t]*$.*?^@[^\\n]*$\\n?");
    private static final Pattern SPACES = Pattern.compile("[ \\t]+");
    private static final Pattern LEADING_SPACE = Pattern.compile("(?m)^ +");
    private static final Pattern BLANK_LINES = Pattern.compile("\\n{3,}");
    /** A dropped citation or reference leaves "test , regardless" or a line holding only the full stop. */
    private static final Pattern ORPHAN_PUNCTUATION = Pattern.compile("(?:[ \\t]+|\\n)([,.;:])(?=\\s|$)");
    /** Math or a code run without its closing delimiter within this many characters is taken as a stray symbol. */
    private static final int MAX_MATH_CHARS = 20_000;

    private final String s;
    private final StringBuilder out;
    private int i;

    private TexCleaner(String s) {
        this.s = s;
        this.out = new StringBuilder(s.length());
    }

    static String clean(String tex) {
        String body = SWEAVE_CHUNK.matcher(tex).replaceAll("");
        int begin = body.indexOf("\\begin{document}");
        if (begin >= 0) {
            body = body.substring(begin + "\\begin{document}".length());
        }
        int end = body.indexOf("\\end{document}");
        if (end >= 0) {
            body = body.substring(0, end);
        }
        TexCleaner c = new TexCleaner(body);
        c.run();
        String text = SPACES.matcher(c.out).replaceAll(" ");
        text = LEADING_SPACE.matcher(text).replaceAll("");
        text = ORPHAN_PUNCTUATION.matcher(text).replaceAll("$1");
        return BLANK_LINES.matcher(text).replaceAll("\n\n");
    }

    private void run() {
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            switch (c) {
                case '%' -> comment();
                case '\\' -> command();
                case '$' -> dollarMath();
                case '{' -> i++;
                case '}' -> {
                    i++;
                    if (i < n && s.charAt(i) == '{') {
                        out.append(' ');
                    }
                }
                case '~' -> {
                    out.append(' ');
                    i++;
                }
                case '`', '\'' -> {
                    if (i + 1 < n && s.charAt(i + 1) == c) {
                        out.append('"');
                        i += 2;
                    } else {
                        out.append(c);
                        i++;
                    }
                }
                default -> {
                    out.append(c);
                    i++;
                }
            }
        }
    }

    /** A comment runs to the end of the line; a line that was only a comment goes entirely. */
    private void comment() {
        int eol = s.indexOf('\n', i);
        boolean wholeLine = out.isEmpty() || lastLineBlank();
        if (eol < 0) {
            i = s.length();
        } else {
            i = wholeLine ? eol + 1 : eol;
        }
    }

    private boolean lastLineBlank() {
        for (int k = out.length() - 1; k >= 0; k--) {
            char c = out.charAt(k);
            if (c == '\n') {
                return true;
            }
            if (c != ' ' && c != '\t') {
                return false;
            }
        }
        return true;
    }

    private void command() {
        int n = s.length();
        if (i + 1 >= n) {
            i++;
            return;
        }
        char next = s.charAt(i + 1);
        if (!Character.isLetter(next)) {
            controlSymbol(next);
            return;
        }
        int start = i + 1;
        int j = start;
        while (j < n && Character.isLetter(s.charAt(j))) {
            j++;
        }
        String name = s.substring(start, j);
        i = j;
        if (i < n && s.charAt(i) == '*') {
            i++;
        }
        switch (name) {
            case "begin" -> beginEnvironment();
            case "end" -> {
                String env = group();
                out.append(env == null ? "" : "\n");
            }
            case "verb" -> verb();
            case "dots", "ldots", "cdots", "textellipsis" -> out.append("...");
            case "item" -> {
                skipOptional();
                out.append("\n- ");
            }
            case "par" -> out.append("\n\n");
            default -> {
                if (DROP_WITH_ARGUMENTS.contains(name)) {
                    skipArguments();
                } else if (DEFINITIONS.contains(name)) {
                    skipDefinition();
                } else if (isProductName(name)) {
                    out.append(name);
                    skipEmptyGroup();
                } else {
                    skipOptional();
                    // TeX eats the spaces after a control word ("\noindent Text"); keep a newline, it may end a paragraph.
                    while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
                        i++;
                    }
                }
            }
        }
    }

    private void controlSymbol(char c) {
        i += 2;
        switch (c) {
            case '\\' -> {
                out.append('\n');
                skipOptional();
            }
            case '[' -> copyMathUntil("\\]", "\\[");
            case '(' -> copyMathUntil("\\)", "\\(");
            case ' ', '\n' -> out.append(' ');
            case ',', ';', '!', '-', '/', '@' -> { }
            // Accents (\"o, \'e, \^a, \~n, \=o, \.z, \`a): keep the letter, drop the accent.
            case '"', '\'', '^', '~', '=', '.', '`' -> { }
            default -> out.append(c);
        }
    }

    private void beginEnvironment() {
        int mark = i;
        String env = group();
        if (env == null) {
            return;
        }
        String endTag = "\\end{" + env + "}";
        int end = s.indexOf(endTag, i);
        if (MATH_ENVIRONMENTS.contains(env) && end >= 0) {
            out.append(s, mark - "\\begin".length(), end + endTag.length());
            i = end + endTag.length();
        } else if (DROPPED_ENVIRONMENTS.contains(env) && end >= 0) {
            i = end + endTag.length();
        } else if (VERBATIM_ENVIRONMENTS.contains(env) && end >= 0) {
            int from = i;
            while (from < s.length() && s.charAt(from) != '\n' && s.charAt(from) != ']') {
                from++;
            }
            out.append(s, Math.min(from + 1, end), end);
            i = end + endTag.length();
        } else {
            skipOptional();
            if (ENVIRONMENTS_WITH_ARGUMENTS.contains(env)) {
                skipGroups();
            }
            out.append('\n');
        }
    }

    private void dollarMath() {
        boolean display = i + 1 < s.length() && s.charAt(i + 1) == '$';
        String delimiter = display ? "$$" : "$";
        int end = findUnescaped(delimiter, i + delimiter.length());
        if (end < 0 || end - i > MAX_MATH_CHARS) {
            out.append('$');
            i++;
            return;
        }
        out.append(s, i, end + delimiter.length());
        i = end + delimiter.length();
    }

    private void copyMathUntil(String close, String open) {
        int end = s.indexOf(close, i);
        if (end < 0 || end - i > MAX_MATH_CHARS) {
            return;
        }
        out.append(open).append(s, i, end).append(close);
        i = end + close.length();
    }

    private void verb() {
        if (i >= s.length()) {
            return;
        }
        char delimiter = s.charAt(i);
        int end = s.indexOf(delimiter, i + 1);
        int eol = s.indexOf('\n', i + 1);
        if (end < 0 || (eol >= 0 && eol < end)) {
            return;
        }
        out.append(s, i + 1, end);
        i = end + 1;
    }

    private int findUnescaped(String delimiter, int from) {
        int k = from;
        while (true) {
            int hit = s.indexOf(delimiter, k);
            if (hit < 0) {
                return -1;
            }
            if (hit > 0 && s.charAt(hit - 1) == '\\') {
                k = hit + 1;
                continue;
            }
            return hit;
        }
    }

    /** {@code {text}} right here (after optional spaces): its content; null if there is none. */
    private String group() {
        skipSpaces(false);
        if (i >= s.length() || s.charAt(i) != '{') {
            return null;
        }
        int end = matching(i, '{', '}');
        String content = s.substring(i + 1, end);
        i = Math.min(end + 1, s.length());
        return content;
    }

    private void skipArguments() {
        while (true) {
            int before = i;
            skipSpaces(true);
            if (i < s.length() && (s.charAt(i) == '{' || s.charAt(i) == '[')) {
                char open = s.charAt(i);
                i = Math.min(matching(i, open, open == '{' ? '}' : ']') + 1, s.length());
            } else {
                i = before;
                return;
            }
        }
    }

    private void skipGroups() {
        while (i < s.length() && s.charAt(i) == '{') {
            i = Math.min(matching(i, '{', '}') + 1, s.length());
        }
    }

    /** {@code \def\name#1{body}}, {@code \newcommand{\name}[1]{body}} and the like. */
    private void skipDefinition() {
        skipSpaces(true);
        if (i < s.length() && s.charAt(i) == '\\') {
            i++;
            while (i < s.length() && Character.isLetter(s.charAt(i))) {
                i++;
            }
        }
        while (i < s.length() && (s.charAt(i) == '#' || Character.isDigit(s.charAt(i)))) {
            i++;
        }
        skipArguments();
    }

    private void skipOptional() {
        if (i < s.length() && s.charAt(i) == '[') {
            int end = matching(i, '[', ']');
            if (end - i < 200) {
                i = end + 1;
            }
        }
    }

    private void skipEmptyGroup() {
        if (s.startsWith("{}", i)) {
            i += 2;
        }
    }

    private void skipSpaces(boolean oneNewline) {
        boolean newlineSeen = false;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t') {
                i++;
            } else if (c == '\n' && oneNewline && !newlineSeen) {
                newlineSeen = true;
                i++;
            } else {
                return;
            }
        }
    }

    /** Index of the bracket closing the one at {@code from}, honouring nesting and escapes; end of text if none. */
    private int matching(int from, char open, char close) {
        int depth = 0;
        for (int k = from; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == '\\') {
                k++;
            } else if (c == open) {
                depth++;
            } else if (c == close && --depth == 0) {
                return k;
            }
        }
        return s.length();
    }

    /** {@code \R}, {@code \GP}, {@code \PARI}: macros that stand for a name and print it. */
    private static boolean isProductName(String name) {
        if (name.length() > 6) {
            return false;
        }
        for (int k = 0; k < name.length(); k++) {
            if (!Character.isUpperCase(name.charAt(k))) {
                return false;
            }
        }
        return true;
    }
}
