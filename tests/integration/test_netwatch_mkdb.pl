#!/usr/bin/perl
# Writes the tiny GeoIP databases the netwatch tests read, one per layout ebee supports:
#   DIR/maxmind-city.mmdb   MaxMind GeoIP2/GeoLite2 City layout (IPv6 tree, IPv4 mapped), with ASN
#   DIR/flat-ipv4.mmdb      ip-location-db flat layout, IPv4 tree
#   DIR/flat-ipv6.mmdb      ip-location-db flat layout, IPv6 tree
#   DIR/asn.mmdb            an ASN-only database (GeoLite2-ASN names), to add to a city one
# Networks are documentation ranges (lookups only; nothing is sent to them).
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $dir = shift or die "usage: $0 DIR\n";
my %types = (
    country => 'map', iso_code => 'utf8_string', names => 'map', en => 'utf8_string',
    city => 'map', subdivisions => ['array', 'map'], location => 'map',
    latitude => 'double', longitude => 'double', autonomous_system_number => 'uint32',
    autonomous_system_organization => 'utf8_string', country_code => 'utf8_string',
    state1 => 'utf8_string', state2 => 'utf8_string', postcode => 'utf8_string',
    timezone => 'utf8_string',
);

sub tree {
    my ($ipv, $type) = @_;
    # The flat layout's city is a string where MaxMind's is a map of names.
    my %t = (%types, $type =~ /flat/ ? (city => 'utf8_string') : ());
    return MaxMind::DB::Writer::Tree->new(
        ip_version => $ipv, record_size => 24, database_type => $type, languages => ['en'],
        description => { en => "ebee test fixture ($type)" },
        map_key_type_callback => sub { $t{ $_[0] } },
        remove_reserved_networks => 0,
    );
}

sub write_tree {
    my ($t, $path) = @_;
    open my $fh, '>:raw', $path or die "$path: $!\n";
    $t->write_tree($fh);
    close $fh;
}

my $mm = tree(6, 'GeoLite2-City');
$mm->insert_network('198.51.100.0/24', {
    country => { iso_code => 'NZ', names => { en => 'New Zealand' } },
    subdivisions => [ { names => { en => 'Wellington Region' } } ],
    city => { names => { en => 'Wellington' } },
    location => { latitude => -41.2866, longitude => 174.7756 },
    autonomous_system_number => 64500, autonomous_system_organization => 'Example Net',
});
$mm->insert_network('2001:db8:100::/48', {
    country => { iso_code => 'IS', names => { en => 'Iceland' } },
    city => { names => { en => 'Reykjavik' } },
    location => { latitude => 64.1466, longitude => -21.9426 },
});
write_tree($mm, "$dir/maxmind-city.mmdb");

my $f4 = tree(4, 'ebee-flat-city-ipv4');
$f4->insert_network('203.0.113.0/24', {
    country_code => 'CL', state1 => 'Magallanes', city => 'Punta Arenas',
    latitude => -53.1638, longitude => -70.9171, timezone => 'America/Punta_Arenas',
});
write_tree($f4, "$dir/flat-ipv4.mmdb");

my $f6 = tree(6, 'ebee-flat-city-ipv6');
$f6->insert_network('2001:db8:200::/48', {
    country_code => 'NO', state1 => 'Svalbard', city => 'Longyearbyen',
    latitude => 78.2232, longitude => 15.6267,
});
write_tree($f6, "$dir/flat-ipv6.mmdb");

my $asn = tree(6, 'GeoLite2-ASN');
$asn->insert_network('203.0.113.0/24', {
    autonomous_system_number => 64501, autonomous_system_organization => 'Flat Example AS',
});
write_tree($asn, "$dir/asn.mmdb");
