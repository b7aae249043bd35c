package flexmoe.experiments.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MailCleanerTest {

    private static final String HEADERS = """
            From someone@example.org  Thu Aug 22 12:00:00 2002
            Return-Path: <someone@example.org>
            Received: from relay (relay [10.0.0.1])
            \tby host with SMTP; Thu, 22 Aug 2002
            From: A Person <a.person@example.org>
            Subject: Re: [toolers] Compiler flags
            Content-Type: text/plain;
            \tcharset="us-ascii"
            """;

    @Test
    void keepsSubjectAndBodyWithoutHeadersQuotesSignatureAddressesOrUrls() {
        String mail = HEADERS + """

                On Thu, 22 Aug 2002, B wrote:
                > have you tried -O2?
                >> and -g

                Yes, -O2 works; see http://example.org/flags.html or mail me at a.person@example.org.
                Details at <www.example.net/x>.

                --\040
                A Person, Example Org
                """;
        assertThat(Cleaner.MAIL.clean(mail)).isEqualTo("""
                Compiler flags

                Yes, -O2 works; see or mail me at .
                Details at .""");
    }

    @Test
    void cutsTheMailingListFooter() {
        String mail = HEADERS + "\nThe build is green again.\n\n_______________________________________________\n"
                + "toolers mailing list\ntoolers@example.org\n";
        assertThat(Cleaner.MAIL.clean(mail)).isEqualTo("Compiler flags\n\nThe build is green again.");
    }

    @Test
    void dropsMessagesThatAreNotPlainText() {
        String html = HEADERS.replace("text/plain;", "text/html;") + "\n<p>hello</p>\n";
        String base64 = HEADERS + "Content-Transfer-Encoding: base64\n\naGVsbG8=\n";
        String multipart = HEADERS.replace("text/plain;", "multipart/alternative; boundary=x;") + "\n--x\nhi\n";
        assertThat(Cleaner.MAIL.clean(html)).isEmpty();
        assertThat(Cleaner.MAIL.clean(base64)).isEmpty();
        assertThat(Cleaner.MAIL.clean(multipart)).isEmpty();
    }

    @Test
    void aMessageWithOnlyHeadersIsEmpty() {
        assertThat(Cleaner.MAIL.clean(HEADERS)).isEmpty();
    }
}
