package flexmoe.moe.data;

import static flexmoe.moe.data.CorpusFiles.jsonl;
import static flexmoe.moe.data.CorpusFiles.write;
import static flexmoe.moe.data.CorpusFiles.writeBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input: which problems are fatal, which are skipped and counted, and what the messages say. */
class CorpusErrorsTest {

    @TempDir
    Path dir;

    private DomainReport read(String domain) {
        return Corpus.open(dir).forEachDocument(domain, (s, d) -> { });
    }

    /** A domain with one good document, so that skipping the bad ones is not fatal. */
    private void good(String domain) {
        write(dir, domain + "/0-good.txt", "a good document");
    }

    // ---- fatal: the corpus as a whole ----

    @Test
    void missingDirectory() {
        Path missing = dir.resolve("nope");
        assertThatThrownBy(() -> Corpus.open(missing)).isInstanceOf(CorpusException.class)
                .hasMessage("corpus directory " + missing + " does not exist");
    }

    @Test
    void fileInsteadOfDirectory() {
        Path file = write(dir, "corpus.txt", "x");
        assertThatThrownBy(() -> Corpus.open(file)).isInstanceOf(CorpusException.class)
                .hasMessageStartingWith("corpus " + file + " is not a directory");
    }

    @Test
    void noDomains() {
        write(dir, "loose.txt", "files at the top level are not a domain");
        assertThatThrownBy(() -> Corpus.open(dir)).isInstanceOf(CorpusException.class)
                .hasMessageStartingWith("corpus directory " + dir + " has no domain sub-directories");
    }

    @Test
    void domainWithoutCorpusFiles() {
        good("news");
        write(dir, "math/readme.md", "x");
        write(dir, "math/data.csv", "x");
        assertThatThrownBy(() -> Corpus.open(dir)).isInstanceOf(CorpusException.class)
                .hasMessage("domain 'math' (" + dir.resolve("math") + ") has no .txt, .jsonl, .txt.gz or .jsonl.gz files"
                        + " (ignored 2 other file(s), e.g. math/data.csv)");
    }

    @Test
    void emptyDomainDirectory() throws IOException {
        Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> Corpus.open(dir)).isInstanceOf(CorpusException.class)
                .hasMessage("domain 'empty' (" + dir.resolve("empty") + ") has no .txt, .jsonl, .txt.gz or .jsonl.gz files");
    }

    @Test
    void badDomainName() {
        write(dir, "my news/a.txt", "x");
        assertThatThrownBy(() -> Corpus.open(dir)).isInstanceOf(CorpusException.class)
                .hasMessageContaining("name 'my news' is not allowed");
    }

    @Test
    void unknownDomainListsTheKnownOnes() {
        good("news");
        good("math");
        Corpus corpus = Corpus.open(dir);
        assertThatThrownBy(() -> corpus.forEachDocument("code", (s, d) -> { })).isInstanceOf(CorpusException.class)
                .hasMessage("corpus " + dir + " has no domain 'code' (it has: math, news)");
    }

    @Test
    void corruptGzipIsFatalAndNamesTheFile() {
        good("d");
        Path bad = writeBytes(dir, "d/x.jsonl.gz", new byte[0]);
        byte[] notGzip = "plain text, not gzip".getBytes(StandardCharsets.UTF_8);
        try {
            Files.write(bad, notGzip);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertThatThrownBy(() -> read("d")).isInstanceOf(CorpusException.class)
                .hasMessageStartingWith(bad + ": cannot read (gzip): ");
    }

    @Test
    void truncatedGzipIsFatal() throws IOException {
        good("d");
        Path gz = writeBytes(dir, "d/x.txt.gz", "some text that compresses".repeat(50).getBytes(StandardCharsets.UTF_8));
        byte[] all = Files.readAllBytes(gz);
        Files.write(gz, Arrays.copyOf(all, all.length / 2));
        assertThatThrownBy(() -> read("d")).isInstanceOf(CorpusException.class)
                .hasMessageStartingWith(gz + ": cannot read (gzip): ");
    }

    @Test
    void unreadableFileIsFatal() throws IOException {
        good("d");
        Path locked = write(dir, "d/locked.txt", "secret");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        assumeThat(Files.isReadable(locked)).as("running as root: permissions do not stop reads").isFalse();
        assertThatThrownBy(() -> Corpus.open(dir)).isInstanceOf(CorpusException.class)
                .hasMessage(locked + ": cannot read (no read permission)");
    }

    // ---- skipped and counted ----

    @Test
    void invalidUtf8InTxtIsSkippedWithItsLine() {
        good("d");
        writeBytes(dir, "d/bad.txt", CorpusFiles.withInvalidByte("line 1\nline 2\nxx", "\n"));

        DomainReport report = read("d");

        assertThat(report.documents()).isEqualTo(1);
        assertThat(report.skipped()).isEqualTo(Map.of(SkipReason.INVALID_UTF8, 1L));
        assertThat(report.problems()).containsExactly(dir.resolve("d/bad.txt")
                + ":3: invalid UTF-8 (byte 0xFF at byte offset 16 of the file); skipped");
    }

    @Test
    void invalidUtf8InJsonlSkipsOnlyThatLine() {
        good("d");
        byte[] good1 = (CorpusFiles.jsonLine("fine") + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] bad = CorpusFiles.withInvalidByte("{\"text\": \"ab", "\"}\n");
        byte[] good2 = (CorpusFiles.jsonLine("also fine") + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[good1.length + bad.length + good2.length];
        System.arraycopy(good1, 0, all, 0, good1.length);
        System.arraycopy(bad, 0, all, good1.length, bad.length);
        System.arraycopy(good2, 0, all, good1.length + bad.length, good2.length);
        writeBytes(dir, "d/x.jsonl.gz", all);

        List<String> texts = new ArrayList<>();
        DomainReport report = Corpus.open(dir).forEachDocument("d", (s, d) -> texts.add(d.text()));

        assertThat(texts).containsExactly("a good document", "fine", "also fine");
        assertThat(report.problems()).containsExactly(dir.resolve("d/x.jsonl.gz")
                + ":2: invalid UTF-8 (byte 0xFF at byte offset 12 of the line); skipped");
    }

    @Test
    void jsonlProblemsAreSkippedWithFileAndLine() {
        good("d");
        write(dir, "d/x.jsonl", String.join("\n",
                "{\"text\": \"ok\"}",
                "this is not json",
                "[\"an\", \"array\"]",
                "{\"body\": \"no text field\", \"id\": 3}",
                "{\"text\": 42}",
                "{\"text\": null}",
                "{\"text\": \"\"}",
                "{\"text\": \"  \\n\\t \"}",
                "{\"text\": \"x\"} trailing",
                "{\"text\": \"bad \\ud800 surrogate\"}") + "\n");

        DomainReport report = read("d");

        String f = dir.resolve("d/x.jsonl").toString();
        assertThat(report.documents()).isEqualTo(2);
        assertThat(report.skipped()).containsExactlyInAnyOrderEntriesOf(Map.of(
                SkipReason.NOT_JSON, 3L, SkipReason.NO_TEXT, 3L, SkipReason.EMPTY, 2L, SkipReason.INVALID_UTF8, 1L));
        assertThat(report.skippedTotal()).isEqualTo(9);
        assertThat(report.skipSummary())
                .isEqualTo("1 invalid UTF-8, 3 JSONL line is not a JSON object, 3 JSONL object has no string field \"text\","
                        + " 2 empty document");
        // the first five problems, in order; each one line
        assertThat(report.problems()).hasSize(DomainReport.MAX_PROBLEMS);
        assertThat(report.problems().get(0)).startsWith(f + ":2: not JSON (Unrecognized token 'this'").endsWith("; skipped");
        assertThat(report.problems().get(1)).isEqualTo(f + ":3: a JSON array, expected an object with a string field"
                + " \"text\"; skipped");
        assertThat(report.problems().get(2)).isEqualTo(f + ":4: no field \"text\" (fields: body, id); skipped");
        assertThat(report.problems().get(3)).isEqualTo(f + ":5: field \"text\" is a number, expected a string; skipped");
        assertThat(report.problems().get(4)).isEqualTo(f + ":6: field \"text\" is a null, expected a string; skipped");
        assertThat(report.problems()).allSatisfy(p -> assertThat(p).doesNotContain("\n"));
    }

    @Test
    void laterJsonlProblemsHaveTheirOwnMessages() {
        good("d");
        write(dir, "d/x.jsonl", String.join("\n",
                "{\"text\": \"\"}",
                "{\"text\": \"x\"} trailing",
                "{\"text\": \"bad \\ud800 surrogate\"}") + "\n");

        List<String> problems = read("d").problems();

        String f = dir.resolve("d/x.jsonl").toString();
        assertThat(problems.get(0)).isEqualTo(f + ":1: empty document (field \"text\" is empty or only whitespace); skipped");
        assertThat(problems.get(1)).startsWith(f + ":2: not JSON (");
        assertThat(problems.get(2)).isEqualTo(f + ":3: field \"text\" is not valid Unicode (unpaired surrogate \\uD800 at"
                + " character 4); skipped");
    }

    @Test
    void emptyAndWhitespaceTxtAreSkipped() {
        good("d");
        write(dir, "d/empty.txt", "");
        write(dir, "d/spaces.txt", " \n\t\n");

        DomainReport report = read("d");

        assertThat(report.skipped()).isEqualTo(Map.of(SkipReason.EMPTY, 2L));
        assertThat(report.problems()).containsExactly(
                dir.resolve("d/empty.txt") + ": empty document (no text, or only whitespace); skipped",
                dir.resolve("d/spaces.txt") + ": empty document (no text, or only whitespace); skipped");
    }

    @Test
    void documentsOverTheSizeCapAreSkipped() {
        good("d");
        write(dir, "d/big.txt", "x".repeat(101));
        write(dir, "d/fits.txt", "y".repeat(100));
        CorpusFiles.writeBytes(dir, "d/big.txt.gz", "z".repeat(500).getBytes(StandardCharsets.UTF_8));
        jsonl(dir, "d/lines.jsonl", List.of("w".repeat(100), "é".repeat(51)));

        Corpus corpus = Corpus.open(dir, CorpusOptions.defaults().withMaxDocumentBytes(100));
        List<String> texts = new ArrayList<>();
        DomainReport report = corpus.forEachDocument("d", (s, d) -> texts.add(d.text()));

        assertThat(texts).containsExactly("a good document", "y".repeat(100), "w".repeat(100));
        assertThat(report.skipped()).isEqualTo(Map.of(SkipReason.TOO_LARGE, 3L));
        assertThat(report.problems()).containsExactly(
                dir.resolve("d/big.txt") + ": document is over the size cap of 100 bytes (101 bytes); skipped",
                dir.resolve("d/big.txt.gz") + ": document is over the size cap of 100 bytes; skipped",
                dir.resolve("d/lines.jsonl") + ":2: document is over the size cap of 100 bytes (102 bytes); skipped");
    }

    @Test
    void aHugeJsonlLineIsSkippedWithoutHoldingIt() {
        good("d");
        // cap 20 bytes -> lines longer than 6 * 20 + 65536 bytes are not even buffered
        write(dir, "d/x.jsonl", "{\"text\": \"" + "q".repeat(70_000) + "\"}\n" + CorpusFiles.jsonLine("short") + "\n");

        List<String> texts = new ArrayList<>();
        DomainReport report = Corpus.open(dir, CorpusOptions.defaults().withMaxDocumentBytes(20))
                .forEachDocument("d", (s, d) -> texts.add(d.text()));

        assertThat(texts).containsExactly("a good document", "short");
        assertThat(report.problems()).containsExactly(dir.resolve("d/x.jsonl")
                + ":1: line of more than 65656 bytes: its text would be over the size cap of 20 bytes; skipped");
    }

    @Test
    void onlyTheFirstFewProblemsAreKeptButAllAreCounted() {
        good("d");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            sb.append("{\"no\": 1}\n");
        }
        write(dir, "d/x.jsonl", sb.toString());

        DomainReport report = read("d");

        assertThat(report.skipped()).isEqualTo(Map.of(SkipReason.NO_TEXT, 50L));
        assertThat(report.problems()).hasSize(DomainReport.MAX_PROBLEMS);
        assertThat(report.problems().getLast()).startsWith(dir.resolve("d/x.jsonl") + ":5: ");
    }

    // ---- never a silent empty corpus ----

    @Test
    void aDomainWhereEverythingWasSkippedIsFatal() {
        write(dir, "d/a.txt", "");
        writeBytes(dir, "d/b.txt", CorpusFiles.withInvalidByte("", ""));
        write(dir, "d/c.jsonl", "{\"x\": 1}\n");

        assertThatThrownBy(() -> read("d")).isInstanceOf(CorpusException.class)
                .hasMessage("domain 'd' (" + dir.resolve("d") + ") has no usable documents: all 3 skipped (1 invalid UTF-8,"
                        + " 1 JSONL object has no string field \"text\", 1 empty document); first: "
                        + dir.resolve("d/a.txt") + ": empty document (no text, or only whitespace); skipped");
    }

    @Test
    void aDomainOfEmptyJsonlFilesIsFatal() {
        write(dir, "d/a.jsonl", "");
        write(dir, "d/b.jsonl", "\n\n");

        assertThatThrownBy(() -> read("d")).isInstanceOf(CorpusException.class)
                .hasMessage("domain 'd' (" + dir.resolve("d") + ") has no usable documents: its 2 file(s) hold no documents");
    }

    @Test
    void inspectFailsOnAnyDomainWithoutDocuments() {
        good("a");
        write(dir, "b/empty.txt", "");
        assertThatThrownBy(() -> Corpus.open(dir).inspect()).isInstanceOf(CorpusException.class)
                .hasMessageStartingWith("domain 'b' ");
    }

    @Test
    void strictModeMakesTheFirstSkipFatal() {
        good("d");
        write(dir, "d/x.jsonl", "{\"text\": \"ok\"}\n{\"text\": 1}\n");
        Corpus strict = Corpus.open(dir, CorpusOptions.defaults().withStrict(true));

        assertThatThrownBy(() -> strict.forEachDocument("d", (s, d) -> { })).isInstanceOf(CorpusException.class)
                .hasMessage(dir.resolve("d/x.jsonl") + ":2: field \"text\" is a number, expected a string"
                        + " (strict mode: such documents are errors)");
    }

    @Test
    void optionsAreValidated() {
        assertThatThrownBy(() -> CorpusOptions.defaults().withMaxDocumentBytes(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("max document bytes must be in [1, ");
    }
}
