# frozen_string_literal: true

# Puppet's own automatic relationships, for the differential test of src/puppet/autorelations.ts
# (test/integration/puppet-autorelations.test.ts). One Ruby process: it compiles every manifest named on stdin
# (a JSON array of paths) with our face's compiler, and prints one JSON array: per manifest, the face's catalog
# document (what `mgmt puppet` translates) and the edges Puppet's relationship graph adds in its
# autorelation step (`Puppet::Graph::RelationshipGraph#build_autorelation_dependencies`, after the manual
# dependencies and before containers are replaced), as [source ref, target ref, refresh?].
#
# usage: ruby puppet-relationships.rb FACTS_FILE <puppet settings...> < manifests.json

require 'json'
require 'set'
require 'puppet'

facts_file = ARGV.shift
Puppet.initialize_settings(ARGV)
$LOAD_PATH.unshift(File.expand_path('../../puppet-module/lib', __dir__))
require 'puppet_x/mgmtgraph/catalog_compiler'
require 'puppet_x/mgmtgraph/catalog_document'
require 'puppet_x/mgmtgraph/collection'
require 'puppet_x/mgmtgraph/facts'

facts = PuppetX::Mgmtgraph::Facts.load_file(facts_file)
manifests = JSON.parse($stdin.read)

edge_of = ->(e) { [e.source.ref, e.target.ref, e.callback == :refresh] }

out = manifests.map do |path|
  result = PuppetX::Mgmtgraph::CatalogCompiler.new(manifest: path, facts: facts, node_name: 'node1.example.test').compile
  doc = PuppetX::Mgmtgraph::CatalogDocument.build(result)
  env = result.node.environment
  autos = Puppet.override({ current_environment: env, loaders: Puppet::Pops::Loaders.new(env) }, 'autorelations') do
    ral = result.catalog.to_ral
    ral.host_config = false
    graph = Puppet::Graph::RelationshipGraph.new(Puppet::Graph::SequentialPrioritizer.new)
    graph.send(:add_all_resources_as_vertices, ral)
    graph.send(:build_manual_dependencies)
    manual = graph.edges.map(&edge_of).to_set
    graph.send(:build_autorelation_dependencies, ral)
    graph.edges.map(&edge_of).reject { |e| manual.include?(e) }
  end
  { 'manifest' => path, 'catalog' => doc, 'automatic' => autos }
end
$stdout.write(JSON.generate(out))
