package flexmoe.moe.data;

import static flexmoe.moe.data.CorpusFiles.jsonl;
import static flexmoe.moe.data.CorpusFiles.write;
import static flexmoe.moe.data.CorpusFiles.writeBytes;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {

    @TempDir
    Path dir;

    private static List<Document> all(Corpus corpus, String domain) {
        List<Document> docs = new ArrayList<>();
        corpus.forEachDocument(domain, (split, doc) -> docs.add(doc));
        return docs;
    }

    @Test
    void readsEveryFormatInSortedPathOrder() {
        write(dir, "news/b.txt", "second file\n");
        jsonl(dir, "news/a.jsonl", List.of("line one", "line two"));
        writeBytes(dir, "news/c.txt.gz", "gzipped text".getBytes(StandardCharsets.UTF_8));
        writeBytes(dir, "news/d.jsonl.gz", (CorpusFiles.jsonLine("gz line") + "\n").getBytes(StandardCharsets.UTF_8));
        write(dir, "news/sub/e.txt", "nested");

        Corpus corpus = Corpus.open(dir);

        assertThat(corpus.domains()).containsExactly("news");
        assertThat(all(corpus, "news")).containsExactly(
                new Document("news", "news/a.jsonl:1", "line one"),
                new Document("news", "news/a.jsonl:2", "line two"),
                new Document("news", "news/b.txt", "second file\n"),
                new Document("news", "news/c.txt.gz", "gzipped text"),
                new Document("news", "news/d.jsonl.gz:1", "gz line"),
                new Document("news", "news/sub/e.txt", "nested"));
    }

    @Test
    void domainsAreSortedSubdirectoriesAndRootFilesHiddenFilesAndOtherExtensionsAreIgnored() {
        write(dir, "zeta/a.txt", "z");
        write(dir, "alpha/a.txt", "a");
        write(dir, "MANIFEST.json", "{}");
        write(dir, "alpha/.hidden.txt", "not read");
        write(dir, "alpha/.git/x.txt", "not read");
        write(dir, "alpha/notes.md", "not a corpus file");
        write(dir, ".cache/a.txt", "not a domain");

        Corpus corpus = Corpus.open(dir);

        assertThat(corpus.domains()).containsExactly("alpha", "zeta");
        assertThat(all(corpus, "alpha")).extracting(Document::text).containsExactly("a");
        DomainReport report = corpus.forEachDocument("alpha", (s, d) -> { });
        assertThat(report.ignoredFiles()).containsExactly("alpha/notes.md");
        assertThat(report.files()).isEqualTo(1);
    }

    @Test
    void jsonlIgnoresOtherFieldsBlankLinesCarriageReturnsAndAByteOrderMark() {
        write(dir, "d/x.jsonl", "\uFEFF{\"id\": 7, \"text\": \"first\", \"meta\": {\"a\": [1, 2]}}\r\n"
                + "\n"
                + "   \n"
                + "{\"text\": \"caf\\u00e9 \\ud83d\\ude00 \\n tab\\t\"}\r\n");

        assertThat(all(Corpus.open(dir), "d")).containsExactly(
                new Document("d", "d/x.jsonl:1", "first"),
                new Document("d", "d/x.jsonl:4", "café \uD83D\uDE00 \n tab\t"));
    }

    @Test
    void txtKeepsTheTextExactlyButDropsAByteOrderMark() {
        write(dir, "d/crlf.txt", "a\r\nb\r\n");
        write(dir, "d/bom.txt", "\uFEFFwith bom");

        assertThat(all(Corpus.open(dir), "d")).extracting(Document::text).containsExactly("with bom", "a\r\nb\r\n");
    }

    @Test
    void reportCountsDocumentsAndBytesPerSplit() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            texts.add("document number " + i + " é");
        }
        jsonl(dir, "d/x.jsonl", texts);
        Corpus corpus = Corpus.open(dir);

        long[] docs = new long[3];
        long[] bytes = new long[3];
        DomainReport report = corpus.forEachDocument("d", (split, doc) -> {
            docs[split.ordinal()]++;
            bytes[split.ordinal()] += doc.text().getBytes(StandardCharsets.UTF_8).length;
        });

        assertThat(report.documents()).isEqualTo(200);
        for (Split s : Split.values()) {
            assertThat(report.split(s).documents()).isEqualTo(docs[s.ordinal()]);
            assertThat(report.split(s).bytes()).isEqualTo(bytes[s.ordinal()]);
        }
        assertThat(report.skippedTotal()).isZero();
        assertThat(report.skipSummary()).isEmpty();
    }

    @Test
    void forOneSplitStreamsOnlyThatSplitsDocuments() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            texts.add("doc " + i);
        }
        jsonl(dir, "d/x.jsonl", texts);
        Corpus corpus = Corpus.open(dir, CorpusOptions.defaults().withSplitFractions(new SplitFractions(0.5, 0.25, 0.25)));

        for (Split split : Split.values()) {
            List<Document> docs = new ArrayList<>();
            DomainReport report = corpus.forEachDocument("d", split, docs::add);
            assertThat(docs).hasSize((int) report.split(split).documents())
                    .allSatisfy(d -> assertThat(corpus.options().splitFractions().splitOf(d.text())).isEqualTo(split));
        }
    }

    @Test
    void inspectReportsEveryDomain() {
        write(dir, "a/x.txt", "one");
        jsonl(dir, "b/x.jsonl", List.of("two", "three"));

        CorpusReport report = Corpus.open(dir).inspect();

        assertThat(report.domains()).extracting(DomainReport::domain).containsExactly("a", "b");
        assertThat(report.documents()).isEqualTo(3);
        assertThat(report.bytes()).isEqualTo("onetwothree".length());
    }

    @Test
    void progressReachesTheDomainsFileBytes() {
        write(dir, "d/a.txt", "x".repeat(5000));
        writeBytes(dir, "d/b.txt.gz", "y".repeat(5000).getBytes(StandardCharsets.UTF_8));
        Corpus corpus = Corpus.open(dir);
        long[] last = new long[2];

        corpus.forEachDocument("d", (s, d) -> { }, (read, total) -> {
            last[0] = read;
            last[1] = total;
        });

        assertThat(last[1]).isEqualTo(corpus.fileBytes("d"));
        assertThat(last[0]).isEqualTo(last[1]);
    }
}
