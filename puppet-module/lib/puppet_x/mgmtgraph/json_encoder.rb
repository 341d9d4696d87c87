# frozen_string_literal: true

require 'base64'
require 'json'

module PuppetX
  module Mgmtgraph
    # Turns Puppet values into plain JSON data. Nothing is stringified behind the caller's back:
    # - Symbols become strings (:undef becomes null);
    # - strings that are not valid UTF-8 become {"__binary": "<base64>"} (Binary values too);
    # - Deferred values become {"__deferred": {"name": ..., "arguments": [...]}};
    # - Sensitive values are unwrapped, and `sensitive?` reports that one was seen (the caller lists the
    #   parameter name; the TypeScript side redacts);
    # - resource references become "Type[title]";
    # - any other rich value (Timestamp, Type, Object...) uses Puppet's rich-data form ({"__ptype": ...}).
    class JsonEncoder
      BINARY_KEY = '__binary'
      DEFERRED_KEY = '__deferred'

      def self.encode(value)
        new.encode(value)
      end

      # Serialises to one line of JSON, never YAML.
      def self.generate(data)
        JSON.generate(data)
      end

      def initialize
        @sensitive = false
      end

      def sensitive?
        @sensitive
      end

      def encode(value)
        case value
        when nil, true, false, Integer then value
        when Float then value.finite? ? value : value.to_s
        when Symbol then value == :undef ? nil : value.to_s
        when String then encode_string(value)
        when Array then value.map { |v| encode(v) }
        when Hash then value.each_with_object({}) { |(k, v), out| out[encode_key(k)] = encode(v) }
        when Puppet::Pops::Types::PSensitiveType::Sensitive
          @sensitive = true
          encode(value.unwrap)
        when Puppet::Pops::Types::PBinaryType::Binary then { BINARY_KEY => Base64.strict_encode64(value.binary_buffer) }
        when Puppet::Resource then value.ref
        else
          deferred?(value) ? encode_deferred(value) : encode_rich(value)
        end
      end

      private

      def encode_string(str)
        return str if str.encoding == Encoding::UTF_8 && str.valid_encoding?

        utf8 = str.dup.force_encoding(Encoding::UTF_8)
        utf8.valid_encoding? ? utf8 : { BINARY_KEY => Base64.strict_encode64(str.b) }
      end

      def encode_key(key)
        encoded = encode(key)
        encoded.is_a?(String) ? encoded : JSON.generate(encoded)
      end

      def deferred?(value)
        value.respond_to?(:_pcore_type) && value._pcore_type.name == 'Deferred'
      end

      def encode_deferred(value)
        { DEFERRED_KEY => { 'name' => value.name, 'arguments' => encode(value.arguments || []) } }
      end

      def encode_rich(value)
        data = Puppet::Pops::Serialization::ToDataConverter.convert(
          value, rich_data: true, symbol_as_string: true, local_reference: false, type_by_reference: true
        )
        data.equal?(value) ? value.to_s : encode(data)
      rescue StandardError
        value.to_s
      end
    end

    # The reverse direction for values sent to the worker: {"__binary": ...} becomes a binary string.
    module JsonDecoder
      def self.decode(value)
        case value
        when Array then value.map { |v| decode(v) }
        when Hash
          if value.size == 1 && value.key?(JsonEncoder::BINARY_KEY)
            Base64.strict_decode64(value[JsonEncoder::BINARY_KEY])
          else
            value.transform_values { |v| decode(v) }
          end
        else value
        end
      end
    end
  end
end
