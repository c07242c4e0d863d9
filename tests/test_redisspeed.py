"""redisspeed's pure parts: the RESP commands it writes by hand."""

from foundations import redisspeed


def test_a_command_counts_each_argument_in_bytes_as_redis_reads_it():
    """RESP's $N is a byte count: a non-ASCII password counted in characters would cut the AUTH short."""
    assert redisspeed._command("AUTH", "lab", "pässwörd") == (
        b"*3\r\n$4\r\nAUTH\r\n$3\r\nlab\r\n$10\r\np\xc3\xa4ssw\xc3\xb6rd\r\n"
    )
