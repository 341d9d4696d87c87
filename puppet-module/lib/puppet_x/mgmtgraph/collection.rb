# frozen_string_literal: true

require 'json'
require_relative 'json_encoder'

module PuppetX
  module Mgmtgraph
    # State of exported-resource collection for one compile: the collector queries Puppet asked the
    # `mgmtgraph` storeconfigs backend, and the resources to hand back (fed from a JSON file or request).
    #
    # Collected resources: [{"type": "File", "title": "/x", "parameters": {...}, "host": "web1"}].
    class Collection
      attr_reader :queries

      def self.current
        Thread.current[:mgmtgraph_collection]
      end

      # Makes `collection` the one the storeconfigs terminus sees while the block runs.
      def self.with(collection)
        previous = current
        Thread.current[:mgmtgraph_collection] = collection
        yield
      ensure
        Thread.current[:mgmtgraph_collection] = previous
      end

      def self.load_file(path)
        new(JSON.parse(File.read(path, encoding: 'UTF-8')))
      rescue JSON::ParserError => e
        raise Puppet::Error, "Could not parse collected resources file #{path}: #{e.message}"
      end

      def initialize(collected = [])
        raise Puppet::Error, 'Collected resources must be a JSON array' unless collected.is_a?(Array)

        @collected = collected
        @queries = []
        @memo = {}
        @origins = {}
      end

      # Called by the terminus; Puppet evaluates each collector more than once per compile, so the
      # answer is memoised per query (the same objects come back, keeping collector_id stable).
      def search(type, filter, scope)
        key = [type.to_s, filter]
        @memo[key] ||= begin
          @queries << { 'type' => type.to_s, 'query' => JsonEncoder.encode(filter) }
          matching(type).map { |data| to_parser_resource(data, scope) }
        end
      end

      # "Type[title]" => host the resource was collected from
      def origin_of(ref)
        @origins[ref]
      end

      private

      def matching(type)
        wanted = type.to_s.downcase
        @collected.select { |r| r.is_a?(Hash) && r['type'].to_s.downcase == wanted }
      end

      def to_parser_resource(data, scope)
        resource = Puppet::Parser::Resource.new(data['type'], data['title'], scope: scope, source: scope.source)
        JsonDecoder.decode(data['parameters'] || {}).each { |name, value| resource.set_parameter(name, value) }
        host = data['host'] || 'unknown'
        resource.collector_id = "#{host}|#{resource.type}|#{resource.title}"
        @origins[resource.ref] = host
        resource
      end
    end
  end
end
