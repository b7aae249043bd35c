package flexmoe.experiments;

import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.DomainReport;
import flexmoe.moe.data.Split;
import flexmoe.moe.tokenizer.BpeTokenizer;
import flexmoe.moe.tokenizer.BpeTrainer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/** {@code flexmoe tokenizer train | encode | decode}: the byte-level BPE tokenizer. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Train, apply and inspect the byte-level BPE tokenizer (Hugging Face tokenizer.json).",
        subcommands = {TokenizerCommand.Train.class, TokenizerCommand.Encode.class, TokenizerCommand.Decode.class})
final class TokenizerCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    /** Trains on one domain of a corpus (the public one unless told otherwise) and saves tokenizer.json. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Train a byte-level BPE tokenizer on the public domain of a corpus and save it as a Hugging"
                    + " Face tokenizer.json.",
                    "Trains on the public domain only, by default: a tokenizer trained on a closed domain leaks it (its"
                    + " merges spell out that domain's frequent strings) to everyone who gets the tokenizer."})
    static final class Train implements Callable<Integer> {

        private static final long PROGRESS_EVERY_NANOS = 2_000_000_000L;

        @Mixin
        CorpusArgs corpusArgs;

        @Option(names = "--vocab", paramLabel = "N", defaultValue = "" + BpeTrainer.DEFAULT_VOCAB_SIZE,
                description = "Vocabulary size: 256 bytes + merges + <|endoftext|> (default: ${DEFAULT-VALUE}).")
        int vocab;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The tokenizer.json to write.")
        Path out;

        @Option(names = "--domain", paramLabel = "NAME", defaultValue = "public",
                description = "Domain to train on (default: ${DEFAULT-VALUE}). Any other domain prints a warning.")
        String domain;

        @Override
        public Integer call() {
            PrintStream err = System.err;
            if (!domain.equals("public")) {
                err.println("flexmoe: warning: training the tokenizer on domain '" + domain + "', not 'public': a"
                        + " tokenizer trained on private data leaks it (its merges spell out that data's frequent"
                        + " strings); FlexOlmo trains it on public data only");
            }
            err.println("Training a byte-level BPE tokenizer (vocabulary " + vocab + ") on domain '" + domain + "' of "
                    + corpusArgs.corpus + (domain.equals("public") ? " (public data only; --domain overrides)" : ""));
            long start = System.nanoTime();
            BpeTrainer trainer = new BpeTrainer(vocab, new ProgressLines(err, start));
            BpeTrainer.PieceCounts counts = new BpeTrainer.PieceCounts();
            forEachTrainingDocument(counts);
            BpeTokenizer tokenizer = trainer.train(counts);
            tokenizer.save(out);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (tokenizer.vocabSize() < vocab) {
                err.println("flexmoe: warning: the corpus allows only " + tokenizer.mergeCount() + " merges: the"
                        + " vocabulary has " + tokenizer.vocabSize() + " tokens, not " + vocab);
            }
            System.out.printf("Wrote %s: vocabulary %d (%d merges), trained on %d documents (%.2f MB of text) of"
                            + " domain '%s' in %.1f s%n", out, tokenizer.vocabSize(), tokenizer.mergeCount(),
                    counts.documents(), counts.chars() / 1e6, domain, seconds);
            System.out.println("fingerprint sha256:" + tokenizer.fingerprint());
            return 0;
        }

        /** Adds the text of every training-split document of the domain (valid and test stay unseen). */
        private void forEachTrainingDocument(BpeTrainer.PieceCounts counts) {
            Corpus corpus = corpusArgs.open();
            corpus.requireDomains(List.of(domain));
            DomainReport report = corpus.forEachDocument(domain, Split.TRAIN, doc -> counts.add(doc.text()));
            CorpusArgs.printProblems(System.err, "flexmoe: warning: ", report);
        }
    }

    /** Plain progress lines on stderr, at most one every two seconds (training is usually done before the first). */
    private record ProgressLines(PrintStream err, long start, long[] last) implements BpeTrainer.Progress {
        ProgressLines(PrintStream err, long start) {
            this(err, start, new long[] {start});
        }

        @Override
        public void update(String phase, long done, long total) {
            long now = System.nanoTime();
            if (now - last[0] >= Train.PROGRESS_EVERY_NANOS) {
                last[0] = now;
                err.printf("  %s: %d%s (%.0f s)%n", phase, done, total > 0 ? "/" + total : "", (now - start) / 1e9);
            }
        }
    }

    /** Encodes text and prints its tokens (their strings in GPT-2's byte alphabet, or their ids). */
    @Command(name = "encode", mixinStandardHelpOptions = true,
            description = {"Encode text with a tokenizer.json and print the tokens, space-separated: their strings in"
                    + " GPT-2's byte alphabet (Ġ is a space, Ċ a newline) or, with --ids, their ids.",
                    "Reads standard input when neither --text nor --file is given."})
    static final class Encode implements Callable<Integer> {

        @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "A tokenizer.json.")
        Path tokenizerFile;

        @ArgGroup(exclusive = true)
        Input input;

        static final class Input {
            @Option(names = "--text", paramLabel = "TEXT", description = "The text to encode.")
            String text;

            @Option(names = "--file", paramLabel = "FILE", description = "A UTF-8 file to encode.")
            Path file;
        }

        @Option(names = "--ids", description = "Print token ids instead of token strings.")
        boolean ids;

        @Override
        public Integer call() throws IOException {
            BpeTokenizer tokenizer = BpeTokenizer.load(tokenizerFile);
            String text = input == null ? readStdin() : input.text != null ? input.text : readUtf8(input.file);
            int[] encoded = tokenizer.encode(text);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < encoded.length; i++) {
                if (i > 0) {
                    sb.append(' ');
                }
                sb.append(ids ? Integer.toString(encoded[i]) : tokenizer.token(encoded[i]));
            }
            printUtf8(sb.append('\n').toString());
            int bytes = text.getBytes(StandardCharsets.UTF_8).length;
            System.err.printf("%d tokens for %d bytes (%.2f bytes per token)%n", encoded.length, bytes,
                    encoded.length == 0 ? 0.0 : bytes / (double) encoded.length);
            return 0;
        }
    }

    /** Decodes token ids back to text. */
    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = {"Decode token ids (arguments, or whitespace-separated on standard input) to text.",
                    "Bytes that are not valid UTF-8 (ids that cut a character apart) print as U+FFFD."})
    static final class Decode implements Callable<Integer> {

        @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "A tokenizer.json.")
        Path tokenizerFile;

        @Parameters(paramLabel = "ID", description = "Token ids.")
        List<Integer> ids;

        @Override
        public Integer call() throws IOException {
            BpeTokenizer tokenizer = BpeTokenizer.load(tokenizerFile);
            int[] values;
            if (ids == null || ids.isEmpty()) {
                String in = readStdin().strip();
                String[] parts = in.isEmpty() ? new String[0] : in.split("\\s+");
                values = new int[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    try {
                        values[i] = Integer.parseInt(parts[i]);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("standard input: '" + parts[i] + "' (item " + (i + 1)
                                + ") is not a token id");
                    }
                }
            } else {
                values = ids.stream().mapToInt(Integer::intValue).toArray();
            }
            printUtf8(tokenizer.decode(values) + "\n");
            return 0;
        }
    }

    /** UTF-8 bytes as they are, whatever the platform's console encoding (token strings and text are Unicode). */
    static void printUtf8(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        System.out.write(bytes, 0, bytes.length);
        System.out.flush();
    }

    private static String readStdin() throws IOException {
        InputStream in = System.in;
        return decodeStrict(in.readAllBytes(), "standard input");
    }

    static String readUtf8(Path file) {
        try {
            return decodeStrict(Files.readAllBytes(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static String decodeStrict(byte[] bytes, String where) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (MalformedInputException e) {
            throw new IllegalArgumentException(where + ": not valid UTF-8 (at byte " + firstBadByte(bytes) + ")");
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(where + ": not valid UTF-8");
        }
    }

    private static int firstBadByte(byte[] bytes) {
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        decoder.decode(in, out, true);
        return in.position();
    }
}
