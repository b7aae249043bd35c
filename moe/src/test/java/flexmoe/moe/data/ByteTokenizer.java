package flexmoe.moe.data;

import flexmoe.moe.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Test-only tokenizer: one token per UTF-8 byte ({@code base + byte}), EOS is {@code base + 256} and decodes to
 * {@value #EOS_TEXT}. A {@code base} above 65279 makes the vocabulary need 32-bit tokens.
 */
class ByteTokenizer implements Tokenizer {

    static final String EOS_TEXT = "<|eos|>";

    private final int base;

    ByteTokenizer() {
        this(0);
    }

    ByteTokenizer(int base) {
        this.base = base;
    }

    @Override
    public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = base + (b[i] & 0xFF);
        }
        return ids;
    }

    @Override
    public String decode(int[] ids, int from, int to) {
        StringBuilder sb = new StringBuilder();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) {
            if (ids[i] == eosId()) {
                sb.append(bytes.toString(StandardCharsets.UTF_8)).append(EOS_TEXT);
                bytes.reset();
            } else {
                bytes.write(ids[i] - base);
            }
        }
        return sb.append(bytes.toString(StandardCharsets.UTF_8)).toString();
    }

    @Override
    public int vocabSize() {
        return base + 257;
    }

    @Override
    public int eosId() {
        return base + 256;
    }

    @Override
    public String fingerprint() {
        return TokenizerFingerprint.ofBytes(("bytes+eos, base " + base).getBytes(StandardCharsets.UTF_8)).sha256();
    }
}
