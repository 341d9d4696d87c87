# frozen_string_literal: true

require_relative 'json_encoder'
require_relative 'module_files'

module PuppetX
  module Mgmtgraph
    # Builds the `mgmtgraph-catalog` document (version 1) from a compiled catalog. Shape: see README.md.
    module CatalogDocument
      FORMAT = 'mgmtgraph-catalog'
      VERSION = 1

      # @param result [CatalogCompiler::Result]
      def self.build(result)
        catalog = result.catalog
        collection = result.collection
        {
          'format' => FORMAT,
          'version' => VERSION,
          'node' => catalog.name,
          'environment' => catalog.environment.to_s,
          'config_version' => catalog.version.nil? ? nil : catalog.version.to_s,
          'resources' => catalog.resources.map { |r| resource(r, collection.origin_of(r.ref), catalog.environment_instance) },
          'edges' => catalog.edges.map { |e| { 'source' => e.source.ref, 'target' => e.target.ref } },
          'classes' => catalog.classes.map(&:to_s),
          'collectors' => collection.queries,
        }
      end

      def self.resource(res, collected_from, env = nil)
        params, sensitive = parameters(res)
        sources = ModuleFiles.source_paths(res, env)
        data = {
          'type' => res.type,
          'title' => JsonEncoder.encode(res.title),
          'file' => res.file.to_s.empty? ? nil : res.file,
          'line' => res.line,
          'tags' => res.tags.to_a.sort,
          'kind' => res.kind,
          'exported' => res.exported? ? true : false,
          'virtual' => res.virtual? ? true : false,
          'parameters' => params,
          'sensitive' => sensitive,
        }
        data['collected_from'] = collected_from if collected_from
        data['source_paths'] = sources unless sources.empty?
        data
      end

      # Explicit parameters only, as Puppet's catalog has them: no defaults, and the namevar only when it
      # differs from the title. Relationship metaparameters (before/require/notify/subscribe) stay.
      def self.parameters(res)
        sensitive = res.sensitive_parameters.map(&:to_s)
        namevar = res.send(:namevar)
        params = {}
        res.to_hash.each_pair do |name, value|
          next if name == namevar && value == res.title

          encoder = JsonEncoder.new
          params[name.to_s] = encoder.encode(value)
          sensitive << name.to_s if encoder.sensitive?
        end
        [params, sensitive.uniq.sort]
      end
    end
  end
end
