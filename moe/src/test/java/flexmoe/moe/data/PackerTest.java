package flexmoe.moe.data;

import static flexmoe.moe.data.CorpusFiles.jsonl;
import static flexmoe.moe.data.CorpusFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import flexmoe.moe.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackerTest {

    private static final TokenizerFingerprint FP = TokenizerFingerprint.ofBytes("test tokenizer".getBytes());
    private static final Set<Split> ALL = EnumSet.allOf(Split.class);

    @TempDir
    Path dir;

    private Path corpusDir() {
        return dir.resolve("corpus");
    }

    private Path out() {
        return dir.resolve("out");
    }

    /** Two domains of generated text with multi-byte characters, in .txt, .jsonl and .gz. */
    private Corpus generatedCorpus() {
        SplittableRandom rng = new SplittableRandom(11);
        String[] words = {"alpha", "beta", "γάμμα", "δ", "naïve", "日本", "emoji \uD83D\uDE00", "end.\n"};
        for (String domain : List.of("news", "math")) {
            List<String> lines = new ArrayList<>();
            for (int d = 0; d < 120; d++) {
                StringBuilder sb = new StringBuilder();
                int n = 1 + rng.nextInt(30);
                for (int i = 0; i < n; i++) {
                    sb.append(words[rng.nextInt(words.length)]).append(' ');
                }
                lines.add(sb.toString());
            }
            jsonl(corpusDir(), domain + "/a.jsonl", lines.subList(0, 60));
            CorpusFiles.writeBytes(corpusDir(), domain + "/b.jsonl.gz", lines.subList(60, 100).stream()
                    .map(t -> CorpusFiles.jsonLine(t) + "\n").reduce("", String::concat).getBytes(
                            java.nio.charset.StandardCharsets.UTF_8));
            for (int i = 100; i < 120; i++) {
                write(corpusDir(), domain + "/docs/" + i + ".txt", lines.get(i));
            }
        }
        return Corpus.open(corpusDir(), CorpusOptions.defaults().withSplitFractions(new SplitFractions(0.6, 0.2, 0.2)));
    }

    private static List<Document> documents(Corpus corpus, String domain, Split split) {
        List<Document> docs = new ArrayList<>();
        corpus.forEachDocument(domain, split, docs::add);
        return docs;
    }

    @Test
    void unpackedTokensDecodeToTheDocumentsJoinedWithEos() {
        Corpus corpus = generatedCorpus();
        ByteTokenizer tok = new ByteTokenizer();
        int seqLen = 31;

        List<Packer.DomainResult> results = new Packer(tok, FP, seqLen).pack(corpus, List.of("news", "math"), ALL, out(),
                s -> { });

        assertThat(results).extracting(Packer.DomainResult::domain).containsExactly("news", "math");
        for (String domain : List.of("news", "math")) {
            for (Split split : Split.values()) {
                List<Document> docs = documents(corpus, domain, split);
                StringBuilder joined = new StringBuilder();
                List<Integer> stream = new ArrayList<>();
                for (Document d : docs) {
                    joined.append(d.text()).append(ByteTokenizer.EOS_TEXT);
                    for (int id : tok.encode(d.text())) {
                        stream.add(id);
                    }
                    stream.add(tok.eosId());
                }
                PackedSequences p = PackedSequences.load(out().resolve(Packer.fileName(domain, split)), tok.vocabSize(), FP);
                int kept = p.sequenceCount() * (seqLen + 1);

                // the stream, cut into whole sequences: exactly its prefix, the rest dropped
                assertThat(p.seqLen()).isEqualTo(seqLen);
                assertThat(p.droppedTokens()).isEqualTo(stream.size() - kept).isLessThan(seqLen + 1);
                assertThat(p.documents()).isEqualTo(docs.size());
                assertThat(p.tokens()).containsExactly(stream.subList(0, kept).stream().mapToInt(Integer::intValue).toArray());
                // decoding the packed tokens gives the documents joined with EOS (up to the dropped tail)
                String decoded = tok.decode(p.tokens());
                int lastEos = decoded.lastIndexOf(ByteTokenizer.EOS_TEXT) + ByteTokenizer.EOS_TEXT.length();
                assertThat(joined.toString()).startsWith(decoded.substring(0, lastEos));
                // inputs and targets of sequence i are the same array shifted by one
                int o = p.offset(p.sequenceCount() - 1);
                assertThat(p.tokens()[o + 1]).isEqualTo(stream.get(o + 1));
                // the result agrees with the file
                Packer.SplitResult r = results.stream().filter(x -> x.domain().equals(domain)).findFirst().orElseThrow()
                        .splits().get(split.ordinal());
                assertThat(r.sequences()).isEqualTo(p.sequenceCount());
                assertThat(r.tokens()).isEqualTo(kept);
                assertThat(r.droppedTokens()).isEqualTo(p.droppedTokens());
            }
        }
    }

    @Test
    void packingTwiceGivesTheSameBytes() throws IOException {
        Corpus corpus = generatedCorpus();
        Packer packer = new Packer(new ByteTokenizer(), FP, 16);
        packer.pack(corpus, List.of("news"), ALL, dir.resolve("one"), s -> { });
        packer.pack(corpus, List.of("news"), ALL, dir.resolve("two"), s -> { });

        for (String name : List.of("news.train.bin", "news.valid.bin", "news.test.bin", "news.pack.json")) {
            assertThat(Files.readAllBytes(dir.resolve("two").resolve(name)))
                    .as(name).isEqualTo(Files.readAllBytes(dir.resolve("one").resolve(name)));
        }
    }

    @Test
    void largeVocabulariesUse32BitTokens() {
        Corpus corpus = generatedCorpus();
        ByteTokenizer tok = new ByteTokenizer(70_000);
        new Packer(tok, FP, 8).pack(corpus, List.of("math"), Set.of(Split.TRAIN), out(), s -> { });

        PackedSequences p = PackedSequences.load(out().resolve("math.train.bin"), tok.vocabSize(), FP);
        assertThat(p.tokens()).isNotEmpty();
        assertThat(java.util.Arrays.stream(p.tokens()).min().orElseThrow()).isGreaterThanOrEqualTo(70_000);
        assertThat(java.util.Arrays.stream(p.tokens()).max().orElseThrow()).isEqualTo(tok.eosId());
        assertThat(out().resolve("math.valid.bin")).doesNotExist();
    }

    @Test
    void manifestDescribesTheDomain() throws IOException {
        Corpus corpus = generatedCorpus();
        write(corpusDir(), "news/bad.jsonl", "{\"no\": 1}\n");
        corpus = Corpus.open(corpusDir(), corpus.options());
        ByteTokenizer tok = new ByteTokenizer();
        List<Packer.DomainResult> results = new Packer(tok, FP, 16).pack(corpus, List.of("news"), ALL, out(), s -> { });

        JsonNode m = new ObjectMapper().readTree(out().resolve("news.pack.json").toFile());

        assertThat(m.get("formatVersion").asInt()).isEqualTo(PackedSequences.FORMAT_VERSION);
        assertThat(m.get("tokenizer").get("sha256").asText()).isEqualTo(FP.sha256());
        assertThat(m.get("tokenizer").get("vocabSize").asInt()).isEqualTo(257);
        assertThat(m.get("tokenizer").get("eosId").asInt()).isEqualTo(256);
        assertThat(m.get("seqLen").asInt()).isEqualTo(16);
        assertThat(m.get("split").get("fractions").get("valid").asDouble()).isEqualTo(0.2);
        Packer.SplitResult train = results.getFirst().splits().getFirst();
        assertThat(m.get("splits").get("train").get("file").asText()).isEqualTo("news.train.bin");
        assertThat(m.get("splits").get("train").get("sequences").asLong()).isEqualTo(train.sequences());
        assertThat(m.get("splits").get("train").get("droppedTokens").asLong()).isEqualTo(train.droppedTokens());
        assertThat(m.get("corpus").get("skipped").get(SkipReason.NO_TEXT.description()).asLong()).isEqualTo(1);
        assertThat(m.get("corpus").get("documents").get("train").get("documents").asLong())
                .isEqualTo(results.getFirst().corpus().split(Split.TRAIN).documents());
    }

    @Test
    void aSplitTooSmallForOneSequenceFailsAndLeavesNothing() throws IOException {
        Corpus corpus = generatedCorpus();
        Packer packer = new Packer(new ByteTokenizer(), FP, 100_000);

        assertThatThrownBy(() -> packer.pack(corpus, List.of("news"), ALL, out(), s -> { }))
                .isInstanceOf(CorpusException.class)
                .hasMessageStartingWith("domain 'news' split 'train': ")
                .hasMessageEndingWith(" fewer than one sequence of 100001 tokens (seq-len 100000 + 1): use a shorter"
                        + " sequence length, more documents, or leave this split out");
        assertOutputEmpty();
    }

    @Test
    void aFailureInALaterDomainLeavesNoOutputAtAll() throws IOException {
        generatedCorpus();
        write(corpusDir(), "math/zz-poison.txt", "POISON");
        Corpus corpus = Corpus.open(corpusDir());
        // news packs fine; math then meets a tokenizer that misbehaves on one of its documents
        Tokenizer flaky = new ByteTokenizer() {
            @Override
            public int[] encode(String text) {
                return text.equals("POISON") ? new int[] {9999} : super.encode(text);
            }
        };

        assertThatThrownBy(() -> new Packer(flaky, FP, 16).pack(corpus, List.of("news", "math"), ALL, out(), s -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the tokenizer produced id 9999, outside its vocabulary [0, 257), for document math/zz-poison.txt");
        assertOutputEmpty();
    }

    @Test
    void anEarlierPackIsLeftIntactWhenARepackFails() throws IOException {
        Corpus corpus = generatedCorpus();
        new Packer(new ByteTokenizer(), FP, 16).pack(corpus, List.of("news"), ALL, out(), s -> { });
        byte[] before = Files.readAllBytes(out().resolve("news.train.bin"));

        assertThatThrownBy(() -> new Packer(new ByteTokenizer(), FP, 100_000)
                .pack(corpus, List.of("news"), ALL, out(), s -> { })).isInstanceOf(CorpusException.class);

        assertThat(Files.readAllBytes(out().resolve("news.train.bin"))).isEqualTo(before);
        try (Stream<Path> files = Files.list(out())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("news.train.bin", "news.valid.bin", "news.test.bin", "news.pack.json");
        }
    }

    @Test
    void unknownDomainIsRejectedBeforeAnyWork() {
        Corpus corpus = generatedCorpus();
        assertThatThrownBy(() -> new Packer(new ByteTokenizer(), FP, 16).pack(corpus, List.of("news", "code"), ALL, out(),
                s -> { })).isInstanceOf(CorpusException.class).hasMessageContaining("has no domain 'code' (it has: math, news)");
        assertThat(out()).doesNotExist();
    }

    @Test
    void progressCountsDocumentsAndTokens() {
        Corpus corpus = generatedCorpus();
        List<Packer.Status> seen = new ArrayList<>();
        List<Packer.DomainResult> results = new Packer(new ByteTokenizer(), FP, 16)
                .pack(corpus, List.of("news"), ALL, out(), seen::add);

        Packer.Status last = seen.getLast();
        assertThat(last.domain()).isEqualTo("news");
        assertThat(last.documents()).isEqualTo(results.getFirst().corpus().documents());
        assertThat(last.fileBytesRead()).isEqualTo(last.fileBytesTotal()).isEqualTo(corpus.fileBytes("news"));
        long tokens = results.getFirst().splits().stream().mapToLong(s -> s.tokens() + s.droppedTokens()).sum();
        assertThat(last.tokens()).isEqualTo(tokens);
    }

    @Test
    void badArguments() {
        assertThatThrownBy(() -> new Packer(new ByteTokenizer(), FP, 0))
                .hasMessageStartingWith("sequence length must be in 1..");
        Tokenizer badEos = new ByteTokenizer() {
            @Override
            public int eosId() {
                return 257;
            }
        };
        assertThatThrownBy(() -> new Packer(badEos, FP, 8)).hasMessage("tokenizer EOS id 257 is outside its vocabulary [0, 257)");
    }

    private void assertOutputEmpty() throws IOException {
        if (Files.exists(out())) {
            try (Stream<Path> files = Files.list(out())) {
                assertThat(files).isEmpty();
            }
        }
    }
}
