package flexmoe.moe.tokenizer;

import java.util.SplittableRandom;

/**
 * Deterministic made-up text for tests and benchmarks (the project ships no third-party text). English-like text
 * draws words from a generated vocabulary of syllable words with Zipf-distributed frequencies, in sentences and
 * paragraphs; the mixed kind interleaves it with code, punctuation runs, numbers and non-Latin scripts.
 */
public final class SyntheticText {

    private static final String[] ONSETS = {"", "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "w",
        "br", "ch", "cl", "dr", "fr", "gr", "pl", "pr", "sh", "st", "th", "tr", "wh"};
    private static final String[] NUCLEI = {"a", "e", "i", "o", "u", "ea", "ou", "ai", "ee", "oo", "y"};
    private static final String[] CODAS = {"", "", "", "n", "r", "s", "t", "l", "nd", "ng", "st", "ck", "rt", "ll"};
    private static final String[] FOREIGN = {"café", "naïve", "Übermaß", "straße", "año", "façade", "smörgåsbord",
        "Привет", "мир", "данные", "東京", "数据集", "模型", "こんにちは", "データ", "서울", "αβγ", "λόγος", "שלום", "مرحبا",
        "नमस्ते", "🙂", "🚀🚀", "👍🏽", "∑", "∫", "≤", "→", "✓", "e\u0301", "n\u0303o"};
    private static final String[] CODE = {
        "for (int i = 0; i < n; i++) {\n    sum += a[i] * b[i];\n}\n",
        "def forward(self, x):\n    return self.proj(torch.relu(x)) + x\n",
        "if (x != null && x.size() > 0) { return x.get(0); }\n",
        "    // TODO: handle the empty case\n",
        "map.put(\"key_\" + id, new int[] {1, 2, 3});\n",
        "SELECT name, count(*) FROM users WHERE age >= 21 GROUP BY name;\n",
        "<div class=\"row\"><span id='x'>&nbsp;</span></div>\n",
        "{\"id\": 42, \"tags\": [\"a\", \"b\"], \"ok\": true}\n",
        "x = [i ** 2 for i in range(10) if i % 3 == 0]\n",
        "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 7); }\n",
        "\t\tcase 3:\n\t\t\tbreak;\n",
        "===========================================\n",
        "--- a/file.txt\n+++ b/file.txt\n@@ -1,3 +1,4 @@\n"};

    private final SplittableRandom random;
    private final String[] words;
    private final double[] cumulative;

    /** A generator whose output is a function of {@code seed} alone. */
    public SyntheticText(long seed) {
        this(seed, 5000);
    }

    public SyntheticText(long seed, int vocabulary) {
        random = new SplittableRandom(seed);
        words = new String[vocabulary];
        cumulative = new double[vocabulary];
        double sum = 0;
        for (int i = 0; i < vocabulary; i++) {
            words[i] = makeWord();
            sum += 1.0 / (i + 1); // Zipf: the r-th word is r times rarer than the first
            cumulative[i] = sum;
        }
        for (int i = 0; i < vocabulary; i++) {
            cumulative[i] /= sum;
        }
    }

    private String makeWord() {
        StringBuilder w = new StringBuilder();
        int syllables = 1 + random.nextInt(3);
        for (int s = 0; s < syllables; s++) {
            w.append(pick(ONSETS)).append(pick(NUCLEI)).append(pick(CODAS));
        }
        return w.toString();
    }

    private String pick(String[] options) {
        return options[random.nextInt(options.length)];
    }

    private String word() {
        double u = random.nextDouble();
        int lo = 0;
        int hi = cumulative.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] < u) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return words[lo];
    }

    /** English-like prose of at least {@code chars} chars: sentences of Zipf words, commas, numbers, paragraphs. */
    public String english(int chars) {
        StringBuilder sb = new StringBuilder(chars + 200);
        while (sb.length() < chars) {
            appendParagraph(sb);
        }
        return sb.toString();
    }

    /** Prose mixed with code, punctuation, numbers and non-Latin scripts, emoji and combining marks. */
    public String mixed(int chars) {
        StringBuilder sb = new StringBuilder(chars + 200);
        while (sb.length() < chars) {
            switch (random.nextInt(4)) {
                case 0, 1 -> appendParagraph(sb);
                case 2 -> sb.append(pick(CODE));
                default -> {
                    for (int i = 0, n = 3 + random.nextInt(12); i < n; i++) {
                        sb.append(random.nextInt(3) == 0 ? word() : pick(FOREIGN)).append(random.nextInt(5) == 0 ? "" : " ");
                    }
                    sb.append("\n");
                }
            }
        }
        return sb.toString();
    }

    /** {@code count} documents of English-like prose, each 200 to 4000 chars. */
    public String[] documents(int count) {
        String[] docs = new String[count];
        for (int i = 0; i < count; i++) {
            docs[i] = english(200 + random.nextInt(3800));
        }
        return docs;
    }

    private void appendParagraph(StringBuilder sb) {
        for (int s = 0, sentences = 2 + random.nextInt(6); s < sentences; s++) {
            int n = 4 + random.nextInt(16);
            for (int i = 0; i < n; i++) {
                String w = word();
                if (i == 0) {
                    w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
                } else {
                    sb.append(' ');
                }
                int r = random.nextInt(100);
                if (r < 3) {
                    sb.append(random.nextInt(2000));
                } else if (r < 5) {
                    sb.append('"').append(w).append('"');
                } else {
                    sb.append(w);
                    if (r < 8) {
                        sb.append("'s");
                    } else if (r < 14 && i + 1 < n) {
                        sb.append(',');
                    }
                }
            }
            sb.append(random.nextInt(10) == 0 ? "?" : ".").append(s + 1 < sentences ? " " : "");
        }
        sb.append("\n\n");
    }
}
