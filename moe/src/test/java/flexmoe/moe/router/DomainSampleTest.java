package flexmoe.moe.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import flexmoe.moe.data.Corpus;
import flexmoe.moe.data.Split;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DomainSampleTest {

    @TempDir
    Path dir;

    @Test
    void aSeededUniformSampleOfTheTrainSplitInCorpusOrder() throws IOException {
        Corpus corpus = corpus(60);
        List<String> train = new ArrayList<>();
        corpus.forEachDocument("news", Split.TRAIN, doc -> train.add(doc.text()));
        assertThat(train.size()).isGreaterThan(20);

        List<String> sample = DomainSample.documents(corpus, "news", 10, 1);
        assertThat(sample).hasSize(10).doesNotHaveDuplicates();
        assertThat(train).containsAll(sample);
        List<Integer> positions = sample.stream().map(train::indexOf).toList();
        assertThat(positions).isSorted();
        assertThat(DomainSample.documents(corpus, "news", 10, 1)).isEqualTo(sample);
        assertThat(DomainSample.documents(corpus, "news", 10, 2)).isNotEqualTo(sample);
        // Not simply the first ten.
        assertThat(sample).isNotEqualTo(train.subList(0, 10));
    }

    @Test
    void fewerDocumentsThanAskedGivesAllOfThem() throws IOException {
        Corpus corpus = corpus(12);
        List<String> train = new ArrayList<>();
        corpus.forEachDocument("news", Split.TRAIN, doc -> train.add(doc.text()));
        assertThat(DomainSample.documents(corpus, "news", DomainSample.PAPER_DOCUMENTS, 3)).isEqualTo(train);
        assertThatThrownBy(() -> DomainSample.documents(corpus, "news", 0, 3)).hasMessageContaining("at least 1");
    }

    private Corpus corpus(int docs) throws IOException {
        Path news = Files.createDirectories(dir.resolve("corpus/news"));
        StringBuilder sb = new StringBuilder();
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < docs; i++) {
            sb.append(json.writeValueAsString(Map.of("text", "news story number " + i + " about the city")))
                    .append('\n');
        }
        Files.writeString(news.resolve("a.jsonl"), sb.toString());
        return Corpus.open(dir.resolve("corpus"));
    }
}
