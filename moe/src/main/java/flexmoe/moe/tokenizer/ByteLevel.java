package flexmoe.moe.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's byte-to-character alphabet ({@code bytes_to_unicode}): every byte is shown as one printable character,
 * so token strings in vocab and merge files never contain whitespace or control characters. Printable Latin-1
 * bytes ({@code !..~}, {@code ¡..¬}, {@code ®..ÿ}) stand for themselves; the other 68 bytes map, in byte order,
 * to U+0100, U+0101, ... (so the space byte 0x20 is {@code Ġ}, newline 0x0A is {@code Ċ}).
 */
public final class ByteLevel {

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];
    /** The bytes in GPT-2's order: printable ones first, then the rest; GPT-2's encoder.json numbers them so. */
    private static final int[] GPT2_ORDER = new int[256];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0;
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            if (printable(b)) {
                BYTE_TO_CHAR[b] = (char) b;
                GPT2_ORDER[next++] = b;
            }
        }
        for (int b = 0; b < 256; b++) {
            if (!printable(b)) {
                BYTE_TO_CHAR[b] = (char) (256 + shifted++);
                GPT2_ORDER[next++] = b;
            }
        }
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevel() {
    }

    private static boolean printable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    /** The character that stands for byte {@code b} (0..255). */
    public static char charOf(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** The byte that character {@code c} stands for, or -1 when {@code c} is not in the alphabet. */
    public static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The {@code i}-th byte in GPT-2's vocabulary order (i in 0..255). */
    static int gpt2Order(int i) {
        return GPT2_ORDER[i];
    }

    /** The alphabet string of {@code bytes}: one character per byte. */
    public static String encode(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }

    /** The bytes an alphabet string stands for, or null when it has a character outside the alphabet. */
    public static byte[] decode(String token) {
        byte[] bytes = new byte[token.length()];
        for (int i = 0; i < bytes.length; i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return null;
            }
            bytes[i] = (byte) b;
        }
        return bytes;
    }
}
