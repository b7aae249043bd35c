package flexmoe.moe.data;

import java.util.List;

/**
 * What reading a whole corpus found, one report per domain in domain order.
 *
 * @param domains the domain reports
 */
public record CorpusReport(List<DomainReport> domains) {

    public CorpusReport {
        domains = List.copyOf(domains);
    }

    public long documents() {
        return domains.stream().mapToLong(DomainReport::documents).sum();
    }

    public long bytes() {
        return domains.stream().mapToLong(DomainReport::bytes).sum();
    }

    public long skippedTotal() {
        return domains.stream().mapToLong(DomainReport::skippedTotal).sum();
    }
}
