package flexmoe.moe.router;

import flexmoe.moe.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Test helpers: a character tokenizer, a hashing embedder, .npy and safetensors files written from their specs. */
final class RouterTesting {

    private RouterTesting() {
    }

    /** One token per UTF-16 char, id 1 + c % (vocab - 1); EOS is 0. */
    static Tokenizer charTokenizer(int vocab) {
        return new Tokenizer() {
            @Override
            public int[] encode(String text) {
                int[] ids = new int[text.length()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = 1 + text.charAt(i) % (vocab - 1);
                }
                return ids;
            }

            @Override
            public String decode(int[] ids, int from, int to) {
                throw new UnsupportedOperationException("not needed by the router tests");
            }

            @Override
            public int vocabSize() {
                return vocab;
            }

            @Override
            public int eosId() {
                return 0;
            }

            @Override
            public String fingerprint() {
                return "0".repeat(64);
            }
        };
    }

    /**
     * A deterministic stand-in for an off-the-shelf embedder: counts of hashed character trigrams, L2-normalised,
     * so texts that share words get close vectors.
     */
    static DocumentEmbedder hashingEmbedder(String name, int width) {
        return new DocumentEmbedder() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int width() {
                return width;
            }

            @Override
            public float[] embed(String document) {
                double[] v = new double[width];
                for (int i = 0; i + 3 <= document.length(); i++) {
                    v[Math.floorMod(document.substring(i, i + 3).hashCode(), width)] += 1;
                }
                double n = 0;
                for (double x : v) {
                    n += x * x;
                }
                float[] out = new float[width];
                for (int i = 0; i < width; i++) {
                    out[i] = (float) (n == 0 ? 0 : v[i] / Math.sqrt(n));
                }
                return out;
            }
        };
    }

    /** n generated documents of a few hundred characters about {@code topic}. */
    static List<String> documents(String topic, int n, long seed) {
        String[] words = switch (topic) {
            case "math" -> new String[] {"integral", "theorem", "prime", "matrix", "proof", "lemma", "vector", "sum"};
            case "news" -> new String[] {"minister", "election", "reported", "city", "police", "market", "vote"};
            default -> new String[] {"the", "people", "house", "world", "time", "water", "small", "great", "day"};
        };
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            int len = 5 + rng.nextInt(60);
            for (int w = 0; w < len; w++) {
                sb.append(words[rng.nextInt(words.length)]).append(w % 9 == 8 ? ". " : " ");
            }
            docs.add(sb.toString().strip());
        }
        return docs;
    }

    /** The mean of rows [n, w] in double. */
    static double[] mean(float[] x, int n, int w) {
        double[] m = new double[w];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < w; j++) {
                m[j] += x[i * w + j];
            }
        }
        for (int j = 0; j < w; j++) {
            m[j] /= n;
        }
        return m;
    }

    static float[] randomValues(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }

    // ---- files, written from the format specs ----

    /** A NumPy .npy file: magic, version, header length, the header dict padded with spaces and '\n' to 64 bytes. */
    static byte[] npy(int major, String descr, boolean fortran, String shape, byte[] data) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': "
                + shape + ", }";
        int prefix = major == 1 ? 10 : 12;
        int total = prefix + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String header = dict + " ".repeat(padded - total) + "\n";
        ByteBuffer b = ByteBuffer.allocate(prefix + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major).put((byte) 0);
        if (major == 1) {
            b.putShort((short) header.length());
        } else {
            b.putInt(header.length());
        }
        b.put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
        return b.array();
    }

    /** A safetensors file: 8-byte little-endian header length, the JSON header, the data section. */
    static byte[] safetensors(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).put(data).array();
    }

    static byte[] f32(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] f64(double[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            b.putDouble(v);
        }
        return b.array();
    }

    static Path write(Path dir, String name, byte[] content) {
        try {
            return Files.write(dir.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
