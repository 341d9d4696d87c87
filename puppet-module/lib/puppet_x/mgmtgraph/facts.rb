# frozen_string_literal: true

require 'json'
require 'yaml'

module PuppetX
  module Mgmtgraph
    # Where a compile gets the node's facts: a stub (a hash, or a YAML/JSON file) or facter. With a stub,
    # facter never gathers facts. (Puppet's own code may still ask Facter for a single value: the host name at
    # start-up unless --certname is given, or OS facts when a type's providers load. None reaches the catalog.)
    module Facts
      # Reads a facts file. Accepts a plain hash of facts, or Puppet's own facts document
      # ({"name": ..., "values": {...}}, as `puppet facts find` prints).
      def self.load_file(path)
        text = File.read(path, encoding: 'UTF-8')
        data = text.lstrip.start_with?('{') ? JSON.parse(text) : YAML.safe_load(text, aliases: true)
        from_data(data || {}, path)
      rescue JSON::ParserError, Psych::Exception => e
        raise Puppet::Error, "Could not parse facts file #{path}: #{e.message}"
      end

      def self.from_data(data, origin = 'request')
        raise Puppet::Error, "Facts from #{origin} must be a hash, got #{data.class}" unless data.is_a?(Hash)

        data = data['values'] if data['values'].is_a?(Hash) && data.key?('name')
        data
      end

      # The compiler copies every setting into `$settings::`, which evaluates the defaults that ask Facter. The
      # default of `srv_domain` is Facter's `domain`, and that one lookup loads every custom fact on the module
      # path: ~1.3 s of the first compile here, for a value no catalog needs. With stub facts the stub is the
      # node's identity, so its domain stands in (an empty string when it has none), as an overridden DEFAULT:
      # a `srv_domain` from the command line or puppet.conf still wins. Without a stub Facter runs anyway and
      # the default is restored.
      # @param stub [Hash, nil]
      def self.stand_in_for_facter(stub)
        networking = stub && stub['networking']
        domain = stub && ((networking.is_a?(Hash) && networking['domain']) || stub['domain']).to_s
        Puppet.settings.override_default(:srv_domain, domain)
      end

      # @param stub [Hash, nil] stub facts; nil means ask facter through Puppet's facts indirection
      # Stub facts get the facts Puppet itself adds to every node's (clientversion, clientcert, clientnoop,
      # implementation) unless the stub has them: modules test them (concat::fragment needs clientversion).
      def self.for_node(name, stub)
        return Puppet::Node::Facts.indirection.find(name) unless stub

        facts = Puppet::Node::Facts.new(name, stub.dup)
        local = Puppet::Node::Facts.new(name, {})
        local.add_local_facts
        local.values.each { |k, v| facts.values[k] = v unless facts.values.key?(k) }
        facts
      end
    end
  end
end
