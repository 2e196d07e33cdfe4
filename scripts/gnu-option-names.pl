#!/usr/bin/perl
# Prints GNU parallel's option names, one option per line: every name it answers to (its aliases), as its own
# options table (options_completion_hash) defines them. Names
# that set the same variable are one option (`-P` is `-j`); the retired ones stay apart.
#   perl scripts/gnu-option-names.pl /usr/bin/parallel
# src/util/gnu-option-names.ts is this output for GNU parallel 20221122; test/util/gnu-option-names.test.ts runs
# this script on the installed parallel and compares.
use strict;
use warnings;
no warnings 'once';
open(my $f, '<', $ARGV[0] // '/usr/bin/parallel') or die "cannot read GNU parallel: $!";
my $source = do { local $/; <$f> };
my ($sub) = $source =~ /(sub options_completion_hash\(\) \{.*?\n\}\n)/s or die "no options table found\n";
{ no strict; no warnings; eval $sub; die $@ if $@; }
my %table = options_completion_hash();
my (%by, @order);
for my $key (sort keys %table) {
  (my $spec = $key) =~ s/\[.*//s;
  my ($names) = $spec =~ /^([^=:]+)(?:[=:].*)?$/ or die "cannot read option $spec\n";
  my $var = $table{$key} == \$opt::retired ? "retired:$names" : "$table{$key}";
  push @order, $var unless $by{$var};
  push @{ $by{$var}{names} }, split /\|/, $names;
}
print join(' ', @{ $by{$_}{names} }), "\n" for @order;
