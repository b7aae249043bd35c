package flexmoe.moe.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import flexmoe.moe.io.AtomicFiles;
import flexmoe.moe.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Tokenizes a corpus and packs each domain's splits into {@link PackedSequences} files: {@code <domain>.<split>.bin}
 * plus a {@code <domain>.pack.json} summary (tokenizer, counts, what the corpus reader skipped).
 *
 * <p>Documents are encoded in corpus order, each followed by the tokenizer's EOS. One pass over a domain feeds all its
 * splits. Nothing is renamed into the output directory until every requested domain and split has packed: a failure
 * leaves the directory as it was. Same corpus, tokenizer and options give the same bytes.
 */
public final class Packer {

    /** Progress while a domain is packed; {@code fileBytes*} are on-disk (compressed) bytes of the domain's files. */
    public record Status(String domain, long documents, long tokens, long fileBytesRead, long fileBytesTotal) {
    }

    /** One packed file. */
    public record SplitResult(Split split, String file, long documents, long tokens, long sequences, long droppedTokens) {
    }

    /** One packed domain, with what reading its corpus files found. */
    public record DomainResult(String domain, List<SplitResult> splits, DomainReport corpus) {
    }

    private static final int PROGRESS_EVERY_DOCUMENTS = 1000;

    private final Tokenizer tokenizer;
    private final TokenizerFingerprint fingerprint;
    private final int seqLen;

    /**
     * @param tokenizer   the tokenizer the model will use
     * @param fingerprint SHA-256 of the tokenizer's saved form ({@link flexmoe.moe.tokenizer.Tokenizer#fingerprint()}), written into every
     *                    packed file so that tokens are never used with another tokenizer
     * @param seqLen      the model's context length S; sequences hold S + 1 tokens (inputs and shifted targets)
     */
    public Packer(Tokenizer tokenizer, TokenizerFingerprint fingerprint, int seqLen) {
        if (seqLen < 1 || seqLen > PackedSequences.MAX_SEQ_LEN) {
            throw new IllegalArgumentException("sequence length must be in 1.." + PackedSequences.MAX_SEQ_LEN + ", got "
                    + seqLen);
        }
        int eos = tokenizer.eosId();
        if (eos < 0 || eos >= tokenizer.vocabSize()) {
            throw new IllegalArgumentException("tokenizer EOS id " + eos + " is outside its vocabulary [0, "
                    + tokenizer.vocabSize() + ")");
        }
        this.tokenizer = tokenizer;
        this.fingerprint = fingerprint;
        this.seqLen = seqLen;
    }

    /** {@code <domain>.<split>.bin}. */
    public static String fileName(String domain, Split split) {
        return domain + "." + split.id() + ".bin";
    }

    /** {@code <domain>.pack.json}. */
    public static String manifestName(String domain) {
        return domain + ".pack.json";
    }

    /**
     * Packs the given domains and splits of a corpus into {@code outDir}.
     *
     * @param domains  domains to pack, in this order (each must exist in the corpus)
     * @param splits   splits to write (all three for training plus evaluation)
     * @param progress called every {@value #PROGRESS_EVERY_DOCUMENTS} documents and at the end of each file
     * @throws CorpusException for corpus problems, and when a split yields not even one sequence (an empty valid or
     *                         test set would only fail later, less clearly)
     */
    public List<DomainResult> pack(Corpus corpus, List<String> domains, Set<Split> splits, Path outDir,
                                   Consumer<Status> progress) {
        if (domains.isEmpty() || splits.isEmpty()) {
            throw new IllegalArgumentException("nothing to pack: no domains or no splits given");
        }
        corpus.requireDomains(domains);
        List<PackedSequences.Writer> writers = new ArrayList<>();
        List<Path[]> manifests = new ArrayList<>(); // {temp, target}
        try {
            List<DomainResult> results = new ArrayList<>();
            for (String domain : domains) {
                Map<Split, PackedSequences.Writer> bysplit = new EnumMap<>(Split.class);
                for (Split split : EnumSet.copyOf(splits)) {
                    PackedSequences.Writer w = new PackedSequences.Writer(outDir.resolve(fileName(domain, split)),
                            tokenizer.vocabSize(), seqLen, fingerprint);
                    writers.add(w);
                    bysplit.put(split, w);
                }
                DomainReport report = packDomain(corpus, domain, bysplit, progress);
                List<SplitResult> splitResults = new ArrayList<>();
                for (Map.Entry<Split, PackedSequences.Writer> e : bysplit.entrySet()) {
                    PackedSequences.Writer w = e.getValue();
                    if (w.sequences() == 0) {
                        throw new CorpusException("domain '" + domain + "' split '" + e.getKey() + "': " + w.tokens()
                                + " tokens from " + w.documents() + " documents, fewer than one sequence of " + (seqLen + 1)
                                + " tokens (seq-len " + seqLen + " + 1): use a shorter sequence length, more documents,"
                                + " or leave this split out");
                    }
                    long dropped = w.tailTokens();
                    w.finish();
                    splitResults.add(new SplitResult(e.getKey(), fileName(domain, e.getKey()), w.documents(),
                            w.tokens() - dropped, w.sequences(), dropped));
                }
                DomainResult result = new DomainResult(domain, splitResults, report);
                results.add(result);
                manifests.add(writeManifestTemp(outDir, result, corpus.options()));
            }
            // Everything is on disk: only now do the renames, so a failure above leaves outDir untouched.
            for (PackedSequences.Writer w : writers) {
                w.commit();
            }
            for (Path[] m : manifests) {
                Files.move(m[0], m[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            return results;
        } catch (IOException e) {
            throw new CorpusException(outDir + ": cannot write: " + e.getMessage(), e);
        } finally {
            for (PackedSequences.Writer w : writers) {
                w.close();
            }
            for (Path[] m : manifests) {
                try {
                    Files.deleteIfExists(m[0]);
                } catch (IOException ignored) {
                    // best effort: a leftover hidden temp file is harmless and the original error matters more
                }
            }
        }
    }

    private DomainReport packDomain(Corpus corpus, String domain, Map<Split, PackedSequences.Writer> writers,
                                    Consumer<Status> progress) {
        int vocab = tokenizer.vocabSize();
        int eos = tokenizer.eosId();
        long[] counts = new long[2]; // documents, tokens
        long[] bytes = new long[2];  // file bytes read, total
        return corpus.forEachDocument(domain, (split, doc) -> {
            PackedSequences.Writer w = writers.get(split);
            if (w == null) {
                return;
            }
            int[] ids = tokenizer.encode(doc.text());
            for (int id : ids) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalStateException("the tokenizer produced id " + id + ", outside its vocabulary [0, "
                            + vocab + "), for document " + doc.source());
                }
            }
            w.append(ids, 0, ids.length);
            w.append(eos);
            w.documentEnded();
            counts[0]++;
            counts[1] += ids.length + 1;
            if (counts[0] % PROGRESS_EVERY_DOCUMENTS == 0) {
                progress.accept(new Status(domain, counts[0], counts[1], bytes[0], bytes[1]));
            }
        }, (read, total) -> {
            bytes[0] = read;
            bytes[1] = total;
            progress.accept(new Status(domain, counts[0], counts[1], read, total));
        });
    }

    private Path[] writeManifestTemp(Path outDir, DomainResult result, CorpusOptions options) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "flexmoe packed tokens");
        m.put("formatVersion", PackedSequences.FORMAT_VERSION);
        m.put("domain", result.domain());
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("sha256", fingerprint.sha256());
        tok.put("vocabSize", tokenizer.vocabSize());
        tok.put("eosId", tokenizer.eosId());
        m.put("tokenizer", tok);
        m.put("seqLen", seqLen);
        m.put("tokensPerSequence", seqLen + 1);
        Map<String, Object> split = new LinkedHashMap<>();
        split.put("fractions", ordered("train", options.splitFractions().train(), "valid",
                options.splitFractions().valid(), "test", options.splitFractions().test()));
        split.put("rule", "SHA-256 of the document's UTF-8 text, first 53 bits as a fraction in [0,1), against"
                + " cumulative fractions train, valid, test");
        m.put("split", split);
        Map<String, Object> files = new LinkedHashMap<>();
        for (SplitResult s : result.splits()) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("file", s.file());
            f.put("documents", s.documents());
            f.put("tokens", s.tokens());
            f.put("sequences", s.sequences());
            f.put("droppedTokens", s.droppedTokens());
            files.put(s.split().id(), f);
        }
        m.put("splits", files);
        DomainReport r = result.corpus();
        Map<String, Object> corpus = new LinkedHashMap<>();
        corpus.put("files", r.files());
        corpus.put("maxDocumentBytes", options.maxDocumentBytes());
        Map<String, Object> docs = new LinkedHashMap<>();
        for (Split s : Split.values()) {
            docs.put(s.id(), ordered("documents", r.split(s).documents(), "bytes", r.split(s).bytes()));
        }
        corpus.put("documents", docs);
        Map<String, Object> skipped = new LinkedHashMap<>();
        r.skipped().forEach((reason, n) -> skipped.put(reason.description(), n));
        corpus.put("skipped", skipped);
        corpus.put("ignoredFiles", r.ignoredFiles());
        m.put("corpus", corpus);

        Path target = outDir.resolve(manifestName(result.domain()));
        Path temp = AtomicFiles.tempFileFor(target);
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m) + "\n";
        Files.writeString(temp, json);
        return new Path[] {temp, target};
    }

    /** A map that keeps the order of its keys, so the JSON is the same bytes every run. */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }
}
