package flexmoe.experiments;

import flexmoe.moe.tokenizer.BpeTrainer;
import flexmoe.moe.tokenizer.SyntheticText;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** The generated corpus (public, math, news; 24 documents each) and tokenizer the command tests train on. */
final class SyntheticCorpus {

    static final String[] DOMAINS = {"public", "math", "news"};

    private SyntheticCorpus() {
    }

    /** Writes the corpus under {@code dir/corpus}, one sub-directory per domain; returns that directory. */
    static Path corpus(Path dir) throws IOException {
        Path corpus = dir.resolve("corpus");
        for (String domain : DOMAINS) {
            Files.createDirectories(corpus.resolve(domain));
            String[] docs = new SyntheticText(domain.hashCode()).documents(24);
            for (int i = 0; i < docs.length; i++) {
                Files.writeString(corpus.resolve(domain).resolve("doc" + i + ".txt"), docs[i]);
            }
        }
        return corpus;
    }

    /** A 300-token BPE tokenizer trained on public text only, at {@code dir/tokenizer.json}. */
    static Path tokenizer(Path dir) throws IOException {
        Path tokenizer = dir.resolve("tokenizer.json");
        new BpeTrainer(300).train(Arrays.asList(new SyntheticText("public".hashCode()).documents(24))).save(tokenizer);
        return tokenizer;
    }
}
